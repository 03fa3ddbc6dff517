// RUN: %check_coro_tidy %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LockingIsBlocking: true}}"
// RUN: %check_coro_tidy -check-suffix=CUSTOM %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: { \
// RUN:     coro-blocking-call.LockingIsBlocking: true, \
// RUN:     coro-blocking-call.BlockingFunctions: 'db::query_.*;compress', \
// RUN:     coro-blocking-call.AllowedFunctions: 'usleep;std::mutex::lock;metrics::flush;folly::coro::blockingWait'}}"
// RUN: %check_coro_tidy -check-suffix=NOLOCK %s coro-blocking-call %t

// BlockingFunctions adds names (qualified, unqualified or regex),
// AllowedFunctions removes them, built-in ones included (and stops the
// transitive analysis there), LockingIsBlocking=true adds the locking
// family (off by default: a short critical section is fine in a coroutine).

#include <coro_test/tasks.h>

#include <mutex>
#include <shared_mutex>
#include <unistd.h>

namespace db {
int query_users() { return 0; }
int query_orders() { return 0; }
int connect() { return 0; }
} // namespace db
namespace zlib {
void compress() {}
} // namespace zlib
namespace metrics {
void flush() { ::fsync(1); }
} // namespace metrics

std::mutex mu;
std::shared_mutex rw;
pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;

cppcoro::task<int> child() { co_return 1; }
folly::coro::Task<int> folly_child() { co_return 2; }

cppcoro::task<> event_loop_inside() {
  cppcoro::sync_wait(child());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cppcoro::sync_wait' blocks the thread while coroutine 'event_loop_inside' runs; waiting synchronously for a coroutine (sync-over-async, which can deadlock) stalls every coroutine on this thread [coro-blocking-call]
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: 'cppcoro::sync_wait' blocks the thread
  // CHECK-MESSAGES-NOLOCK: :[[@LINE-3]]:3: warning: 'cppcoro::sync_wait' blocks the thread
  folly::coro::blockingWait(folly_child());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'folly::coro::blockingWait' blocks {{.*}}; waiting synchronously for a coroutine
  // CHECK-MESSAGES-NOLOCK: :[[@LINE-2]]:3: warning: 'folly::coro::blockingWait' blocks
  db::query_users();
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:3: warning: 'db::query_users' blocks the thread while coroutine 'event_loop_inside' runs; calling a function listed in BlockingFunctions stalls every coroutine on this thread [coro-blocking-call]
  db::query_orders();
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:3: warning: 'db::query_orders' blocks
  db::connect(); // the regex is anchored: db::query_.* does not match it
  zlib::compress();
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:3: warning: 'zlib::compress' blocks
  co_return;
}

cppcoro::task<> allowed_and_locking() {
  ::usleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'usleep' blocks the thread while coroutine 'allowed_and_locking' runs; sleeping
  // CHECK-MESSAGES-NOLOCK: :[[@LINE-2]]:3: warning: 'usleep' blocks
  mu.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::mutex::lock' on 'mu' blocks
  mu.unlock();
  rw.lock_shared();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::shared_mutex::lock_shared' on 'rw' blocks
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: 'std::shared_mutex::lock_shared' on 'rw' blocks
  rw.unlock_shared();
  {
    std::lock_guard guard(mu);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: constructing 'std::lock_guard<std::mutex>' on 'mu' blocks
    // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:21: warning: constructing 'std::lock_guard<std::mutex>' on 'mu' blocks
  }
  pthread_mutex_lock(&pmu);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'pthread_mutex_lock' blocks
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: 'pthread_mutex_lock' blocks
  metrics::flush();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'metrics::flush' blocks the thread while coroutine 'allowed_and_locking' runs; it reaches 'fsync' (blocking I/O)
  // CHECK-MESSAGES-NOLOCK: :[[@LINE-2]]:3: warning: 'metrics::flush' blocks
  co_return;
}
