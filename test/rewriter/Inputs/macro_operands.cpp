// Project macros whose expansions differ: one whose operand ends at a
// different parameter in each expansion cannot be instrumented in its
// definition, nor can one defined twice (the other definition would then
// differ); one expanded inside another's argument can.
#include <coro_test/tasks.h>
#include <cstdio>

using cppcoro::task;

#define AWAIT_THEN(x, rest) co_await x rest
#define AWAIT(x) co_await x
#define AWAIT_TWICE(x) co_await x
#define AWAIT_TWICE(x) co_await x

struct ready {
  int v;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return v; }
};
struct holder {
  ready inner;
};

task<int> value(int v) { co_return v; }

task<int> operands() {
  int a = AWAIT_THEN(value(1), );
  // The operand is `holder{{2}}.inner`, which ends at `rest`.
  int b = AWAIT_THEN(holder{{2}}, .inner);
  co_return a + b;
}

task<int> nested() { co_return AWAIT(value(AWAIT(value(3)))) + 1; }

task<int> twice() { co_return AWAIT_TWICE(value(5)); }

int main() {
  auto a = operands();
  cppcoro::sync_wait(a);
  auto b = nested();
  cppcoro::sync_wait(b);
  auto c = twice();
  cppcoro::sync_wait(c);
  std::printf("operands %d nested %d twice %d\n", *a.handle.promise().value,
              *b.handle.promise().value, *c.handle.promise().value);
}
