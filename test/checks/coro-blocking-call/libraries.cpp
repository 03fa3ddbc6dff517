// RUN: %check_coro_tidy %s coro-blocking-call %t

// Task types in the styles of cppcoro, folly (await_transform that accepts
// only its own awaitables) and libcoro; the synchronous waits those
// libraries provide are blocking by default (sync-over-async).

#include <coro_test/tasks.h>

#include <future>
#include <mutex>
#include <unistd.h>

cppcoro::task<int> compute() { co_return 42; }

folly::coro::Task<int> folly_style(std::future<int> &pending) {
  int ready = co_await folly::coro::ReadyAwaitable{1};
  int waited = pending.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'std::future<int>::get' on 'pending' blocks the thread while coroutine 'folly_style' runs
  co_return ready + waited;
}

folly::coro::Task<int> nested_blocking_wait(std::future<int> &pending) {
  int inner = folly::coro::blockingWait(folly_style(pending));
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'folly::coro::blockingWait' blocks the thread while coroutine 'nested_blocking_wait' runs; waiting synchronously for a coroutine (sync-over-async, which can deadlock)
  co_return inner;
}

coro::task<> libcoro_style(coro::thread_pool &pool) {
  co_await pool.schedule();
  ::usleep(10);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'usleep' blocks the thread while coroutine 'libcoro_style' runs
  coro::sync_wait(compute());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'coro::sync_wait' blocks {{.*}}; waiting synchronously for a coroutine (sync-over-async, which can deadlock)
  co_return;
}

cppcoro::task<int> cppcoro_style() {
  int value = co_await compute();
  cppcoro::sync_wait(compute());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cppcoro::sync_wait' blocks
  co_return value;
}

cppcoro::generator<int> counter(std::mutex &mu) {
  for (int i = 0; i < 3; ++i) {
    // A short critical section is not a blocking call by default; the lock
    // held at co_yield is coro-lock-across-suspend's finding.
    std::unique_lock lock(mu);
    co_yield i;
  }
}

// Blocking waits at the top level, outside any coroutine, are how programs
// start their loop: not reported.
int main() {
  std::promise<int> p;
  std::future<int> f = p.get_future();
  p.set_value(1);
  cppcoro::sync_wait(cppcoro_style());
  return folly::coro::blockingWait(folly_style(f));
}
