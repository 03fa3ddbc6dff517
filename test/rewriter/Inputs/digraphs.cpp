%:include <coro_test/tasks.h>
%:include <cstdio>
// Coroutine bodies, lambdas, subscripts and a macro written with digraphs:
// `<%` and `%>` are braces of two characters.
%:define AWAIT(x) co_await x

using cppcoro::task;

task<int> value(int v) <% co_return v; %>

task<int> sum(int v) <%
  int a<:2:> = <%v, v + 1%>;
  int b = co_await value(a<:0:>) + AWAIT(value(a<:1:>));
  auto plus = <:&:>(int c) -> task<int> <% co_return co_await value(c) + b; %>;
  co_return co_await plus(1);
%>

int main() <%
  auto t = sum(2);
  cppcoro::sync_wait(t);
  std::printf("sum %d, line %d\n", *t.handle.promise().value, __LINE__);
%>
