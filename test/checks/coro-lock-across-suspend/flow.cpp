// RUN: %check_coro_tidy %s coro-lock-across-suspend %t

// Flow-sensitive: which locks are held at each co_await and co_yield, over
// the coroutine's control-flow graph. The warning is at the suspension, with
// a note at the acquisition.

#include <coro_test/tasks.h>

#include <mutex>
#include <pthread.h>
#include <shared_mutex>
#include <utility>

std::mutex mu;
std::shared_mutex rw;
std::recursive_mutex rec;
std::timed_mutex timed;
pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;
cppcoro::task<> tick();
cppcoro::task<bool> more();
void work();
void consume(std::unique_lock<std::mutex> lock);

cppcoro::task<> guards() {
  {
    std::lock_guard<std::mutex> guard(mu);
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'guard' on 'mu' is held across this co_await in coroutine 'guards'; the coroutine may resume on another thread and unlock there, and everything that needs the lock waits until it does [coro-lock-across-suspend]
    // CHECK-NOTES: :[[@LINE-3]]:33: note: 'mu' is locked here by 'guard'
  }
  {
    std::scoped_lock both(mu, rec);
    std::shared_lock reader(rw);
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'both' on 'mu', 'rec' and lock 'reader' on 'rw' are held across this co_await in coroutine 'guards'
    // CHECK-NOTES: :[[@LINE-4]]:22: note: 'mu', 'rec' are locked here by 'both'
    // CHECK-NOTES: :[[@LINE-4]]:22: note: 'rw' is locked here by 'reader'
  }
  // The guards' scopes ended: nothing is held.
  co_await tick();
}

// unique_lock: unlock(), release() and moving it away end the hold; lock()
// takes it again; deferred, tried and timed locks are not known to be held.
cppcoro::task<> unique_locks() {
  std::unique_lock<std::mutex> lock(mu);
  lock.unlock();
  co_await tick();
  lock.lock();
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'unique_locks'
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'mu' is locked here by 'lock'
  lock.release();
  co_await tick();
  std::unique_lock<std::mutex> second(mu);
  consume(std::move(second));
  co_await tick();
  std::unique_lock<std::mutex> deferred(mu, std::defer_lock);
  std::unique_lock<std::mutex> tried(mu, std::try_to_lock);
  std::unique_lock<std::timed_mutex> timeout(timed, std::chrono::seconds(1));
  co_await tick();
  mu.unlock();
}

// Held on one path only: a "may" analysis reports it.
cppcoro::task<> branches(bool fast) {
  std::unique_lock<std::mutex> lock(mu, std::defer_lock);
  if (fast)
    lock.lock();
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'branches'
  // CHECK-NOTES: :[[@LINE-3]]:5: note: 'mu' is locked here by 'lock'
  if (lock.owns_lock())
    lock.unlock();
}

// Mutexes locked by hand, std and pthread.
cppcoro::task<> by_hand() {
  mu.lock();
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: mutex 'mu' (locked by hand) is held across this co_await in coroutine 'by_hand'
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'mu' is locked here by hand
  mu.unlock();
  co_await tick();
  rw.lock_shared();
  co_await std::suspend_never{};
  rw.unlock_shared();
  pthread_mutex_lock(&pmu);
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: mutex 'pmu' (locked with pthread_mutex_lock) is held across this co_await in coroutine 'by_hand'
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'pmu' is locked here with pthread_mutex_lock
  pthread_mutex_unlock(&pmu);
  if (mu.try_lock()) {
    co_await tick();
    mu.unlock();
  }
}

// Loops: a lock taken later in the body is still held at the next
// iteration's co_await, including one in the loop's condition.
cppcoro::task<> loops() {
  std::unique_lock<std::mutex> lock(mu, std::defer_lock);
  while (co_await more()) {
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'loops'
    // CHECK-NOTES: :[[@LINE+4]]:5: note: 'mu' is locked here by 'lock'
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'loops'
    // CHECK-NOTES: :[[@LINE+1]]:5: note: 'mu' is locked here by 'lock'
    lock.lock();
    work();
  }
  lock.unlock();
  // A guard that lives for one iteration only is gone at the next await.
  for (int i = 0; i < 3; ++i) {
    co_await tick();
    std::lock_guard<std::mutex> guard(mu);
    work();
  }
}

// Guards in if and switch initializers live for the whole statement.
cppcoro::task<> initializers(int kind) {
  if (std::lock_guard<std::mutex> guard(mu); kind > 0) {
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'guard' on 'mu' is held across this co_await in coroutine 'initializers'
    // CHECK-NOTES: :[[@LINE-3]]:35: note: 'mu' is locked here by 'guard'
  }
  switch (std::unique_lock<std::mutex> lock(mu); kind) {
  case 1:
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'initializers'
  // CHECK-NOTES: :[[@LINE-4]]:40: note: 'mu' is locked here by 'lock'
    break;
  default:
    break;
  }
  co_await tick();
}

// co_yield with a lock held is a suspension too.
cppcoro::generator<int> produce() {
  std::lock_guard<std::mutex> guard(mu);
  co_yield 1;
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'guard' on 'mu' is held across this co_yield in coroutine 'produce'
  // CHECK-NOTES: :[[@LINE-3]]:31: note: 'mu' is locked here by 'guard'
}

// co_return: locals are destroyed before the final suspend. But an await in
// its operand happens with the lock held.
cppcoro::task<int> returns(bool early) {
  std::lock_guard<std::mutex> guard(mu);
  if (early)
    co_return 0;
  co_return co_await more() ? 1 : 2;
  // CHECK-NOTES: :[[@LINE-1]]:13: warning: lock 'guard' on 'mu' is held across this co_await in coroutine 'returns'
  // CHECK-NOTES: :[[@LINE-5]]:31: note: 'mu' is locked here by 'guard'
}

// Awaitables that never suspend are allowed by default.
cppcoro::task<> never_suspends() {
  std::lock_guard<std::mutex> guard(mu);
  co_await std::suspend_never{};
}
