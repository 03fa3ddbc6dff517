// RUN: %check_coro_tidy %s coro-lock-across-suspend %t
// RUN: %check_coro_tidy -check-suffix=CUSTOM %s coro-lock-across-suspend %t -- \
// RUN:   -config="{CheckOptions: { \
// RUN:     coro-lock-across-suspend.LockTypes: 'absl::MutexLock', \
// RUN:     coro-lock-across-suspend.AsyncLockTypes: 'fiber::mutex', \
// RUN:     coro-lock-across-suspend.AllowedAwaitables: 'inline_scheduler::operation;std::suspend_never'}}"

// Asynchronous mutexes' guards hold no thread: cppcoro's scoped_lock_async()
// and lock_async() + adopt_lock, folly's co_scoped_lock(), libcoro's
// lock(). LockTypes adds guard classes, AsyncLockTypes adds asynchronous
// mutex or guard classes (replacing the defaults), AllowedAwaitables lists
// awaitables that resume on the same thread without letting others run.
// NOLINT works.

#include <coro_test/async_mutex.h>
#include <coro_test/tasks.h>

#include <coroutine>
#include <mutex>

cppcoro::task<> tick();

namespace fiber {
struct mutex {
  void lock() {}
  void unlock() {}
};
} // namespace fiber

namespace absl {
class Mutex {
public:
  void Lock() {}
  void Unlock() {}
};
class MutexLock {
public:
  explicit MutexLock(Mutex *mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() { mu_->Unlock(); }

private:
  Mutex *mu_;
};
} // namespace absl

struct inline_scheduler {
  struct operation {
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) noexcept { return false; }
    void await_resume() noexcept {}
  };
  operation schedule() { return {}; }
};

cppcoro::async_mutex amu;
folly::coro::Mutex fmu;
fiber::mutex fiber_mu;
absl::Mutex abmu;
std::mutex mu;
inline_scheduler inline_sched;

cppcoro::task<> async_guards() {
  {
    auto lock = co_await amu.scoped_lock_async();
    co_await tick();
  }
  {
    co_await amu.lock_async();
    std::lock_guard<cppcoro::async_mutex> lock(amu, std::adopt_lock);
    co_await tick();
    // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:5: warning: lock 'lock' on 'amu' is held across this co_await in coroutine 'async_guards'
  }
  {
    auto lock = co_await fmu.co_scoped_lock();
    co_await tick();
  }
}

cppcoro::task<> configured() {
  {
    std::lock_guard<fiber::mutex> lock(fiber_mu);
    co_await tick();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: lock 'lock' on 'fiber_mu' is held across this co_await in coroutine 'configured'
  }
  {
    absl::MutexLock lock(&abmu);
    co_await tick();
    // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:5: warning: lock 'lock' on '&abmu' is held across this co_await in coroutine 'configured'
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    co_await inline_sched.schedule();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'configured'
    co_await std::suspend_never{};
  }
  {
    // The defaults are replaced: cppcoro's mutex is no longer asynchronous.
    co_await amu.lock_async();
    std::lock_guard<cppcoro::async_mutex> lock(amu, std::adopt_lock);
    co_await tick();
    // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:5: warning: lock 'lock' on 'amu' is held across this co_await in coroutine 'configured'
  }
}

cppcoro::task<> suppressed() {
  std::lock_guard<std::mutex> lock(mu);
  co_await tick(); // NOLINT
  co_await tick(); // NOLINT(coro-lock-across-suspend)
  // NOLINTNEXTLINE(coro-*)
  co_await tick();
  co_await tick(); // NOLINT(bugprone-*): a different check, still reported
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'suppressed'
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'suppressed'
}
