// RUN: %check_coro_tidy -check-suffixes=DEFAULT,SYNC %s coro-lock-order-inversion %t
// RUN: %check_coro_tidy -check-suffixes=CUSTOM,SYNC %s coro-lock-order-inversion %t -- \
// RUN:   -config="{CheckOptions: { \
// RUN:     coro-lock-order-inversion.AsyncLockFunctions: 'fiber::mutex::acquire'}}"

// Orders inside coroutines: asynchronous mutexes in the styles of cppcoro,
// folly and libcoro (AsyncLockFunctions), a coroutine's locks counted where
// it is awaited, and templates, lambdas and generic lambdas.

#include <coro_test/async_mutex.h>
#include <coro_test/tasks.h>

#include <coroutine>
#include <mutex>

namespace fiber {
struct mutex {
  std::suspend_never acquire() { return {}; }
  void release() {}
};
} // namespace fiber

// cppcoro: scoped_lock_async() guards, and lock_async() + unlock().
struct Session {
  cppcoro::async_mutex state_mu;
  cppcoro::async_mutex io_mu;

  cppcoro::task<> send() {
    auto state = co_await state_mu.scoped_lock_async();
    auto io = co_await io_mu.scoped_lock_async();
  }
  cppcoro::task<> receive() {
    co_await io_mu.lock_async();
    co_await state_mu.lock_async();
    // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:5: warning: locks 'Session::io_mu' and 'Session::state_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
    // CHECK-NOTES-DEFAULT: :[[@LINE-2]]:5: note: 'Session::io_mu' then 'Session::state_mu' in 'Session::receive' at {{.*}}:[[@LINE-2]]
    // CHECK-NOTES-DEFAULT: :[[@LINE-7]]:15: note: 'Session::state_mu' then 'Session::io_mu' in 'Session::send' at {{.*}}:[[@LINE-7]]
    state_mu.unlock();
    io_mu.unlock();
  }
  // Released by hand before the next: no order.
  cppcoro::task<> handover() {
    co_await state_mu.lock_async();
    state_mu.unlock();
    co_await io_mu.lock_async();
    io_mu.unlock();
  }
};

// folly: co_scoped_lock() through a coroutine awaited under another lock.
folly::coro::Mutex registry_mu;
folly::coro::Mutex metrics_mu;
folly::coro::Task<int> record_metric() {
  auto lock = co_await metrics_mu.co_scoped_lock();
  co_return 1;
}
folly::coro::Task<int> register_worker() {
  auto lock = co_await registry_mu.co_scoped_lock();
  co_return co_await record_metric();
}
folly::coro::Task<int> export_metrics() {
  auto lock = co_await metrics_mu.co_scoped_lock();
  auto registry = co_await registry_mu.co_scoped_lock();
  // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:19: warning: locks 'metrics_mu' and 'registry_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES-DEFAULT: :[[@LINE-2]]:19: note: 'metrics_mu' then 'registry_mu' in 'export_metrics' at {{.*}}:[[@LINE-2]]
  // CHECK-NOTES-DEFAULT: :[[@LINE-7]]:22: note: 'registry_mu' then 'metrics_mu' in 'register_worker' at {{.*}}:[[@LINE-7]], via 'record_metric' at {{.*}}:[[@LINE-12]]
  co_return 0;
}
// A coroutine that is created but not awaited under the lock runs later:
// no order.
cppcoro::task<> later() {
  auto lock = co_await metrics_mu.co_scoped_lock();
}
void spawn(cppcoro::task<> t);
folly::coro::Task<int> schedule_later() {
  auto lock = co_await registry_mu.co_scoped_lock();
  spawn(later());
  co_return 0;
}

// AsyncLockFunctions replaces the defaults: fiber's acquire() is a lock.
fiber::mutex fiber_a, fiber_b;
cppcoro::task<> fiber_ab() {
  co_await fiber_a.acquire();
  co_await fiber_b.acquire();
  // CHECK-NOTES-CUSTOM: :[[@LINE-1]]:3: warning: locks 'fiber_a' and 'fiber_b' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES-CUSTOM: :[[@LINE-2]]:3: note: 'fiber_a' then 'fiber_b' in 'fiber_ab' at {{.*}}:[[@LINE-2]]
  fiber_b.release();
  fiber_a.release();
}
cppcoro::task<> fiber_ba() {
  co_await fiber_b.acquire();
  co_await fiber_a.acquire();
  // CHECK-NOTES-CUSTOM: :[[@LINE-1]]:3: note: 'fiber_b' then 'fiber_a' in 'fiber_ba' at {{.*}}:[[@LINE-1]]
  fiber_a.release();
  fiber_b.release();
}

// Templates: lock classes of a class template's members are named without
// arguments, and found through the instantiations.
template <typename T> struct Pool {
  std::mutex free_mu;
  std::mutex used_mu;
  void take() {
    std::lock_guard a(free_mu);
    std::lock_guard b(used_mu);
    // CHECK-NOTES-SYNC: :[[@LINE-1]]:21: warning: locks 'Pool::free_mu' and 'Pool::used_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
    // CHECK-NOTES-SYNC: :[[@LINE-2]]:21: note: 'Pool::free_mu' then 'Pool::used_mu' in 'Pool::take' at {{.*}}:[[@LINE-2]]
  }
  cppcoro::task<> give_back() {
    std::lock_guard b(used_mu);
    co_await drain();
  }
  cppcoro::task<> drain() {
    std::lock_guard a(free_mu);
    // CHECK-NOTES-SYNC: :[[@LINE-4]]:14: note: 'Pool::used_mu' then 'Pool::free_mu' in 'Pool::give_back' at {{.*}}:[[@LINE-4]], via 'Pool::drain' at {{.*}}:[[@LINE-1]]
    co_return;
  }
};
cppcoro::task<> use_pool(Pool<int> &ints) {
  ints.take();
  co_await ints.give_back();
}
// A template never instantiated is not analysed.
template <typename T> struct Unused {
  std::mutex a, b;
  void ab() { std::lock_guard x(a); std::lock_guard y(b); }
  void ba() { std::lock_guard y(b); std::lock_guard x(a); }
};

// Lambdas: plain, coroutine and generic; a lambda defined under a lock
// runs later.
std::mutex jobs_mu, results_mu;
void collect() {
  auto publish = [] { std::lock_guard r(results_mu); };
  std::lock_guard j(jobs_mu);
  publish();
  // CHECK-NOTES-SYNC: :[[@LINE-1]]:3: warning: locks 'jobs_mu' and 'results_mu' are acquired in opposite orders; two threads taking them can deadlock [coro-lock-order-inversion]
  // CHECK-NOTES-SYNC: :[[@LINE-2]]:3: note: 'jobs_mu' then 'results_mu' in 'collect' at {{.*}}:[[@LINE-2]], via 'collect::(lambda at {{.*}}:[[@LINE-4]]:18)' at {{.*}}:[[@LINE-4]]
}
void drain_results() {
  auto take = [](auto &mu) { std::lock_guard g(mu); };
  std::lock_guard r(results_mu);
  take(jobs_mu);
  // CHECK-NOTES-SYNC: :[[@LINE-1]]:3: note: 'results_mu' then 'jobs_mu' in 'drain_results' at {{.*}}:[[@LINE-1]], via 'drain_results::(lambda at {{.*}}:[[@LINE-3]]:15)' at {{.*}}:[[@LINE-3]]
}
std::mutex later_a, later_b;
void defer_work() {
  std::lock_guard a(later_a);
  auto job = [] { std::lock_guard b(later_b); };
  (void)job;
  auto coro_job = []() -> cppcoro::task<> {
    std::lock_guard b(later_b);
    co_return;
  };
  (void)coro_job;
}
void other_way() {
  std::lock_guard b(later_b);
  std::lock_guard a(later_a);
}
