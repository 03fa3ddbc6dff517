// Delays the program asks for are not hangs, however long: a timer's wait,
// and the waits of a coroutine that implements a delay (libcoro's
// yield_for). A plain event wait as long is. Waits are real (a thread
// resumes each after its delay), so the program runs with COROSCOPE_HANG_MS=1.
#include <coro_test/tasks.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <mutex>
#include <thread>
#include <vector>

std::mutex threads_lock;
std::vector<std::thread> threads;

// Resumes its waiter from another thread after `ms` milliseconds.
struct resume_later {
  int ms;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    std::lock_guard guard(threads_lock);
    threads.emplace_back([h, ms = ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      h.resume();
    });
  }
  void await_resume() const noexcept {}
};

namespace asio {
template <typename Clock> struct basic_waitable_timer {
  template <typename Token> resume_later async_wait(Token) { return {20}; }
};
using steady_timer = basic_waitable_timer<std::chrono::steady_clock>;
struct use_awaitable_t {};
inline constexpr use_awaitable_t use_awaitable;
} // namespace asio

namespace folly::coro {
inline resume_later sleep(std::chrono::milliseconds d) { return {int(d.count())}; }
} // namespace folly::coro

namespace coro {
// libcoro's shape: yield_for returns the task of a coroutine whose own wait
// (an awaiter of the scheduler's, not a timer by name) is the delay.
struct scheduler {
  template <typename Rep, typename Period>
  cppcoro::task<void> yield_for(std::chrono::duration<Rep, Period> d) {
    return yield_for_internal(std::chrono::duration_cast<std::chrono::milliseconds>(d));
  }
  cppcoro::task<void> yield_for_internal(std::chrono::milliseconds d) {
    co_await resume_later{int(d.count())};
  }
};
} // namespace coro

cppcoro::task<void> waits(coro::scheduler &s) {
  asio::steady_timer timer;
  co_await timer.async_wait(asio::use_awaitable);
  co_await folly::coro::sleep(std::chrono::milliseconds(20));
  co_await s.yield_for(std::chrono::milliseconds(20));
  co_await resume_later{20}; // an event: a hang at COROSCOPE_HANG_MS=1
}

int main() {
  coro::scheduler s;
  std::atomic<bool> done{false};
  auto top = [&]() -> cppcoro::task<void> {
    co_await waits(s);
    done = true;
  }();
  cppcoro::sync_wait(top);
  while (!done)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (std::size_t joined = 0;; ++joined) {
    std::thread next;
    {
      std::lock_guard guard(threads_lock);
      if (joined == threads.size())
        break;
      next = std::move(threads[joined]);
    }
    next.join();
  }
}
