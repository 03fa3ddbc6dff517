// RUN: %check_coro_tidy %s coro-blocking-call %t

#include <coro_test/tasks.h>

#include <unistd.h>

cppcoro::task<> suppressed() {
  ::sleep(1); // NOLINT
  ::sleep(2); // NOLINT(coro-blocking-call)
  // NOLINTNEXTLINE(coro-blocking-call)
  ::sleep(3);
  // NOLINTBEGIN(coro-*)
  ::usleep(1);
  ::usleep(2);
  // NOLINTEND(coro-*)
  ::sleep(4); // NOLINT(bugprone-*): a different check, still reported
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'sleep' blocks the thread while coroutine 'suppressed' runs
  co_return;
}
