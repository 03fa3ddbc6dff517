// RUN: %check_coro_tidy %s coro-blocking-call %t -- -- -I%S/Inputs
// RUN: %check_coro_tidy -check-suffix=NOFOLLOW %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.FollowCalls: false}}" -- -I%S/Inputs
// RUN: %check_coro_tidy -check-suffixes=,LOCKING %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LockingIsBlocking: true}}" -- -I%S/Inputs

// Calls into functions defined in this translation unit that block, at any
// depth, with one note per step down to the blocking call.

#include <coro_test/tasks.h>
#include "storage.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>
#include <unistd.h>

using namespace std::chrono_literals;

void backoff() { std::this_thread::sleep_for(5ms); }
void retry() { backoff(); }
void save(int fd) {
  retry();
  flush_to_disk(fd);
}

cppcoro::task<> handle_request(int fd) {
  retry();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'retry' blocks the thread while coroutine 'handle_request' runs; it reaches 'std::this_thread::sleep_for' (sleeping) [coro-blocking-call]
  // CHECK-NOTES: :[[@LINE-9]]:16: note: 'retry' calls 'backoff' here
  // CHECK-NOTES: :[[@LINE-11]]:18: note: 'std::this_thread::sleep_for' blocks here, in 'backoff'
  // The shortest chain is shown: save -> flush_to_disk -> fsync.
  save(fd);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'save' blocks the thread while coroutine 'handle_request' runs; it reaches 'fsync' (blocking I/O)
  // CHECK-NOTES: :[[@LINE-11]]:3: note: 'save' calls 'flush_to_disk' here
  // CHECK-NOTES: storage.h:5:37: note: 'fsync' blocks here, in 'flush_to_disk'
  flush_to_disk(fd);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'flush_to_disk' blocks the thread while coroutine 'handle_request' runs; it reaches 'fsync' (blocking I/O)
  // CHECK-NOTES: storage.h:5:37: note: 'fsync' blocks here, in 'flush_to_disk'
  ::sleep(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'sleep' blocks the thread while coroutine 'handle_request' runs; sleeping
  // CHECK-MESSAGES-NOFOLLOW: :[[@LINE-2]]:3: warning: 'sleep' blocks the thread while coroutine 'handle_request' runs; sleeping
  co_return;
}

// Recursion terminates, and a blocking call reached through a cycle is found.
void ping(int n);
void pong(int n) {
  if (n > 0)
    ping(n - 1);
}
void ping(int n) {
  pong(n);
  ::usleep(1);
}
cppcoro::task<> rally() {
  pong(3);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'pong' blocks the thread while coroutine 'rally' runs; it reaches 'usleep' (sleeping)
  // CHECK-NOTES: :[[@LINE-9]]:5: note: 'pong' calls 'ping' here
  // CHECK-NOTES: :[[@LINE-6]]:3: note: 'usleep' blocks here, in 'ping'
  co_return;
}
int countdown(int n) { return n == 0 ? 0 : countdown(n - 1); }

// Constructors, member functions and immediately invoked lambdas are followed.
std::mutex registry_mutex;
struct Registration {
  Registration() { ::usleep(100); }
  ~Registration() {}
};
struct Cache {
  int lookup(int key) {
    std::lock_guard<std::mutex> guard(mu);
    return key;
  }
  std::mutex mu;
};
// A thread pool's post(): the blocking work is the closure, run elsewhere;
// the pool's own short queue lock is not a blocking call of the caller.
struct Pool {
  template <typename F> void post(F work) {
    std::lock_guard<std::mutex> guard(queue_mutex);
    (void)work;
  }
  std::mutex queue_mutex;
};
cppcoro::task<int> serve(Cache &cache, Pool &pool) {
  Registration registration;
  // CHECK-NOTES: :[[@LINE-1]]:16: warning: 'Registration::Registration' blocks the thread while coroutine 'serve' runs; it reaches 'usleep' (sleeping)
  // CHECK-NOTES: :[[@LINE-22]]:20: note: 'usleep' blocks here, in 'Registration::Registration'
  // A callee's short critical section is not reported, even with
  // LockingIsBlocking: only the coroutine's own locking is.
  int value = cache.lookup(1);
  pool.post([] { ::sleep(1); });
  registry_mutex.lock();
  // CHECK-MESSAGES-LOCKING: :[[@LINE-1]]:3: warning: 'std::mutex::lock' on 'registry_mutex' blocks the thread while coroutine 'serve' runs; synchronous locking
  registry_mutex.unlock();
  [] { ::sleep(1); }();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: '(lambda at {{.*}})' blocks the thread while coroutine 'serve' runs; it reaches 'sleep' (sleeping)
  // CHECK-NOTES: :[[@LINE-2]]:8: note: 'sleep' blocks here, in '(lambda at {{.*}})'
  co_return value + countdown(3);
}

// Not followed: virtual calls, calls through pointers, calls into system
// headers (a lambda handed to std::for_each), and other coroutines (calling
// one only creates it; it is checked on its own).
struct Store {
  virtual void put(int) { ::sleep(1); }
  virtual ~Store() = default;
};
void (*hook)() = backoff;
cppcoro::task<> sleepy_child() {
  backoff();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'backoff' blocks the thread while coroutine 'sleepy_child' runs; it reaches 'std::this_thread::sleep_for' (sleeping)
  // CHECK-NOTES: :[[@LINE-95]]:18: note: 'std::this_thread::sleep_for' blocks here, in 'backoff'
  co_return;
}
cppcoro::task<> not_followed(Store &store, std::vector<int> &items) {
  store.put(1);
  hook();
  std::for_each(items.begin(), items.end(), [](int) { ::usleep(1); });
  auto child = sleepy_child();
  co_await child;
  co_return;
}

// A qualified call is not virtual: it is followed.
cppcoro::task<> qualified(Store &store) {
  store.Store::put(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'Store::put' blocks the thread while coroutine 'qualified' runs; it reaches 'sleep' (sleeping)
  // CHECK-NOTES: :[[@LINE-23]]:27: note: 'sleep' blocks here, in 'Store::put'
  co_return;
}
