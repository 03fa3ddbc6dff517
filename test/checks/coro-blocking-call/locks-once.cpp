// RUN: %check_coro_tidy %s coro-blocking-call,coro-lock-across-suspend %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LockingIsBlocking: true}}"
// RUN: %check_coro_tidy -check-suffix=DEFAULT %s coro-blocking-call,coro-lock-across-suspend %t

// With LockingIsBlocking on and coro-lock-across-suspend enabled, an
// acquisition held across a suspension is reported once, by
// coro-lock-across-suspend; one that is released before any suspension is a
// blocking acquisition. Blocking work under a lock is reported at the work,
// with the option or without.

#include <coro_test/tasks.h>

#include <cstdio>
#include <mutex>

std::mutex mu;
cppcoro::task<> tick();

cppcoro::task<> held_across() {
  std::lock_guard<std::mutex> guard(mu);
  co_await tick();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: lock 'guard' on 'mu' is held across this co_await in coroutine 'held_across'; {{.*}} [coro-lock-across-suspend]
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:3: warning: lock 'guard' on 'mu' is held across this co_await in coroutine 'held_across'; {{.*}} [coro-lock-across-suspend]
}

cppcoro::task<> short_section(std::FILE *log) {
  {
    std::lock_guard<std::mutex> guard(mu);
    // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: constructing 'std::lock_guard<std::mutex>' on 'mu' blocks the thread while coroutine 'short_section' runs; synchronous locking {{.*}} [coro-blocking-call]
    std::fflush(log);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'fflush' blocks the thread while coroutine 'short_section' runs; synchronous file or console I/O {{.*}} [coro-blocking-call]
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:5: warning: 'fflush' blocks the thread while coroutine 'short_section' runs; synchronous file or console I/O {{.*}} [coro-blocking-call]
  }
  co_await tick();
}
