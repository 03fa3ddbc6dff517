// RUN: %check_coro_tidy %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.Replacements: 'std::this_thread::sleep_for=timer::sleep_for; usleep = timer::sleep_us'}}"

// Replacements turns a blocking free-function call into a co_await of the
// given asynchronous function, keeping the arguments.

#include <coro_test/tasks.h>

#include <chrono>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace timer {
struct sleep_awaitable {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() const noexcept {}
};
template <typename D> sleep_awaitable sleep_for(D) { return {}; }
inline sleep_awaitable sleep_us(unsigned) { return {}; }
} // namespace timer

cppcoro::task<> poll_loop(int rounds) {
  for (int i = 0; i < rounds; ++i) {
    std::this_thread::sleep_for(10ms);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'std::this_thread::sleep_for' blocks the thread while coroutine 'poll_loop' runs; sleeping stalls every coroutine on this thread [coro-blocking-call]
    // CHECK-FIXES: {{^}}    co_await timer::sleep_for(10ms);{{$}}
    ::usleep(100 * i);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'usleep' blocks
    // CHECK-FIXES: {{^}}    co_await timer::sleep_us(100 * i);{{$}}
  }
  // No replacement configured for sleep(): a warning without a fix.
  ::sleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'sleep' blocks
  // CHECK-FIXES: {{^}}  ::sleep(1);{{$}}
  co_return;
}

// A call spelled in a macro is reported but not rewritten.
#define SNOOZE() std::this_thread::sleep_for(1ms)
cppcoro::task<> in_macro() {
  SNOOZE();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_for' blocks
  // CHECK-FIXES: {{^}}  SNOOZE();{{$}}
  co_return;
}

// A template pattern is fixed once, in the pattern.
template <typename D> cppcoro::task<> wait_then(D d) {
  std::this_thread::sleep_for(d);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_for' blocks
  // CHECK-FIXES: {{^}}  co_await timer::sleep_for(d);{{$}}
  co_return;
}
auto instance = wait_then(1ms);
