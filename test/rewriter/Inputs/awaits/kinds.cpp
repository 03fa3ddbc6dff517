// What each co_await waits for: a child coroutine, a turn on an executor, or
// an event. Library code (by namespace) makes its own awaitables, whose
// coroutines are not tracked.
#include <coro_test/tasks.h>
#include <coroutine>
#include <utility>

struct ready_awaiter {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return 1; }
};

struct pool {
  ready_awaiter schedule() { return {}; }   // a pool's own schedule(): a turn
  ready_awaiter yield() { return {}; }
  ready_awaiter schedule_after(int) { return {}; } // a timer: an event
};

namespace concurrencpp {
struct executor {};
inline ready_awaiter resume_on(executor &) { return {}; }
} // namespace concurrencpp

namespace asio {
// A library operation that returns a task type: its coroutine is the
// library's, not tracked, so awaiting it is an event.
inline cppcoro::task<int> async_read(int fd) { co_return fd; }
} // namespace asio

cppcoro::task<int> declared_elsewhere(int v); // defined below, after use
ready_awaiter timer();

template <typename Awaitable> cppcoro::task<int> awaits_anything(Awaitable a) {
  co_return co_await std::move(a);
}

cppcoro::task<int> kinds(pool &p, concurrencpp::executor &ex) {
  int a = co_await declared_elsewhere(1);
  int b = co_await p.schedule();
  int c = co_await p.yield();
  int d = co_await p.schedule_after(5);
  int e = co_await concurrencpp::resume_on(ex);
  int f = co_await asio::async_read(3);
  int g = co_await timer();
  auto t = declared_elsewhere(2);
  int h = co_await std::move(t);
  int i = co_await awaits_anything(ready_awaiter{});
  co_return a + b + c + d + e + f + g + h + i;
}

cppcoro::task<int> declared_elsewhere(int v) { co_return v; }
ready_awaiter timer() { return {}; }

int main() {
  pool p;
  concurrencpp::executor ex;
  int v = 0;
  cppcoro::sync_wait([&]() -> cppcoro::task<void> { v = co_await kinds(p, ex); }());
  return v == 12 ? 0 : 1;
}

// libcoro's scheduler: schedule() is a turn; schedule(task) runs the task there
// and waits for it, which is a child.
namespace coro {
struct io_scheduler {
  ready_awaiter schedule() { return {}; }
  cppcoro::task<int> schedule(cppcoro::task<int> t) { co_return co_await std::move(t); }
};
} // namespace coro

cppcoro::task<int> on_pool(coro::io_scheduler &tp) {
  co_await tp.schedule();
  co_return co_await tp.schedule(declared_elsewhere(4));
}
