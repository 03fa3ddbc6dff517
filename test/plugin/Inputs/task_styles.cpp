// One program per task style, instrumented by the plugin with no source
// change: a cppcoro-like lazy task (symmetric transfer), a folly-like task
// whose await_transform accepts only its own awaitables, an eager
// fire-and-forget task, and a generator destroyed while suspended.
#include <coro_test/tasks.h>
#include <coroutine>
#include <cstdio>
#include <stdexcept>

// Resumed by hand, like an I/O completion.
struct event {
  std::coroutine_handle<> waiter;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept { waiter = h; }
  void await_resume() const noexcept {}
  void fire() { std::exchange(waiter, {}).resume(); }
};

cppcoro::task<int> lazy_child(int v) { co_return v * 2; }

cppcoro::task<int> lazy_parent() {
  int a = co_await lazy_child(1);
  int b = co_await lazy_child(2);
  co_return a + b;
}

cppcoro::task<int> failing_child() {
  throw std::runtime_error("child gave up");
  co_return 0;
}

cppcoro::task<int> catching_parent() {
  try {
    co_return co_await failing_child();
  } catch (const std::runtime_error &) {
    co_return -1;
  }
}

folly::coro::Task<int> folly_child() {
  co_return co_await folly::coro::ReadyAwaitable{20};
}

folly::coro::Task<int> folly_parent() { co_return co_await folly_child() + 1; }

eager::fire_and_forget fire_and_forget(event &e, int &out) {
  co_await e;
  out = 7;
}

cppcoro::generator<int> numbers() {
  for (int i = 0;; ++i)
    co_yield i;
}

eager::fire_and_forget waits_forever(event &e) { co_await e; }

int main() {
  int lazy = 0;
  cppcoro::sync_wait([&]() -> cppcoro::task<void> { lazy = co_await lazy_parent(); }());
  int caught = 0;
  cppcoro::sync_wait([&]() -> cppcoro::task<void> { caught = co_await catching_parent(); }());
  int folly = folly::coro::blockingWait(folly_parent());
  event e;
  int out = 0;
  fire_and_forget(e, out);
  e.fire();
  int taken = 0;
  {
    auto g = numbers();
    for (int i = 0; i < 3 && g.next(); ++i)
      taken += g.value();
  } // destroyed while suspended at co_yield: abandoned
  static event never;
  waits_forever(never); // still suspended at exit: live
  std::printf("lazy %d caught %d folly %d eager %d generator %d\n", lazy, caught,
              folly, out, taken);
}
