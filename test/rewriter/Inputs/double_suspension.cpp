// Suspensions whose operands end on the same token, as in libcoro's
// `co_yield co_await static_cast<awaitable&&>(a);`, and ones written right
// after a '/': a marker there would start a `//` comment, but a hook on the
// operand goes after the keyword.
#include <coro_test/tasks.h>
#include <cstdio>

using cppcoro::task;

task<int> value(int v) { co_return v; }

// Awaiting a task<ready> gives an awaitable.
struct ready {
  int v;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return v; }
};
task<ready> wrapped(int v) { co_return ready{v}; }

cppcoro::generator<int> yields_awaited(int n) {
  for (int i = 1; i <= n; ++i) {
    auto next = value(i);
    co_yield co_await static_cast<task<int> &&>(next);
  }
}

task<int> awaits_awaited(int v) { co_return co_await co_await wrapped(v); }

task<int> nested(int v) {
  int a = co_await value(co_await co_await wrapped(v));
  co_return a + (co_await co_await wrapped(1));
}

task<int> divided(int v) {
  int a = 12 /co_await value(v);
  int b = 12 - /*a comment, no division*/co_await value(v);
  ready r{2};
  int c = 12 /co_await r; // an awaiter lvalue: its hook goes before the keyword
  co_return a + b + c;
}

template <typename T> task<void> store(task<T> &t, T &out) {
  out = co_await t;
}

template <typename T> T run(task<T> t) {
  T result{};
  cppcoro::sync_wait(store(t, result));
  return result;
}

int main() {
  int sum = 0;
  for (auto g = yields_awaited(4); g.next();)
    sum += g.value();
  std::printf("yields %d\n", sum);
  std::printf("awaits %d nested %d\n", run(awaits_awaited(5)), run(nested(2)));
  std::printf("divided %d\n", run(divided(3)));
}
