// Coroutine bodies that #include part of themselves.
#include <coro_test/tasks.h>
#include <cstdio>

cppcoro::task<int> value(int v) { co_return v; }

// The body is in this file; its statements are in body.inc.
cppcoro::task<int> included() {
#include "body.inc"
}

// The body starts here and ends in rest.inc: left alone.
cppcoro::task<int> spanning() {
  int a = co_await value(2);
#include "rest.inc"

int main() {
  auto a = included();
  cppcoro::sync_wait(a);
  auto b = spanning();
  cppcoro::sync_wait(b);
  std::printf("included %d spanning %d\n", *a.handle.promise().value,
              *b.handle.promise().value);
}
