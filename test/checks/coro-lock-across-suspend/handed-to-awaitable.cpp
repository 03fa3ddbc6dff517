// RUN: %check_coro_tidy %s coro-lock-across-suspend %t

// A lock handed to the awaited expression (the guard by reference, or its
// mutex) is the awaiter's to release: the shape of an async lock's and an
// async wait's API (concurrencpp's async_lock_awaiter). It is held at that
// suspension only when the awaitable's visible code never lets a lock go.

#include <coro_test/tasks.h>

#include <coroutine>
#include <mutex>
#include <utility>

std::mutex mu;
cppcoro::task<> tick();

// concurrencpp: the awaiter moves the lock in and releases it in
// await_suspend.
struct releasing_awaiter {
  releasing_awaiter(std::unique_lock<std::mutex> &lock)
      : held(std::move(lock)) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) { auto unlocked = std::move(held); }
  void await_resume() const noexcept {}
  std::unique_lock<std::mutex> held;
};

cppcoro::task<> async_lock_retry() {
  while (true) {
    std::unique_lock<std::mutex> lock(mu);
    co_await releasing_awaiter(lock);
  }
}

// An async condition variable, declared only: its wait takes the lock, as
// std::condition_variable::wait does, and releases it while waiting.
struct async_condition {
  struct awaiter {
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<>);
    void await_resume() const noexcept;
  };
  awaiter wait(std::unique_lock<std::mutex> &lock);
  awaiter wait_on(std::mutex &mutex);
};

cppcoro::task<> wait_for_work(async_condition &ready) {
  std::unique_lock<std::mutex> lock(mu);
  co_await ready.wait(lock);
  mu.unlock();
  mu.lock();
  co_await ready.wait_on(mu);
  mu.unlock();
}

// Visible code that keeps the lock: it is still held at the suspension.
struct keeping_awaiter {
  explicit keeping_awaiter(std::unique_lock<std::mutex> &lock) : lock(lock) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  void await_resume() const noexcept {}
  std::unique_lock<std::mutex> &lock;
};

cppcoro::task<> keeps_it() {
  std::unique_lock<std::mutex> lock(mu);
  co_await keeping_awaiter(lock);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'keeps_it'; {{.*}} [coro-lock-across-suspend]
  // CHECK-NOTES: :[[@LINE-3]]:32: note: 'mu' is locked here by 'lock'
}

// A task coroutine that takes the guard and suspends while it holds it.
cppcoro::task<> hold_and_wait(std::unique_lock<std::mutex> &lock) {
  co_await tick();
}

cppcoro::task<> through_a_task() {
  std::unique_lock<std::mutex> lock(mu);
  co_await hold_and_wait(lock);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'through_a_task'; {{.*}} [coro-lock-across-suspend]
  // CHECK-NOTES: :[[@LINE-3]]:32: note: 'mu' is locked here by 'lock'
}

// Handed to a plain function, the lock stays held: only the awaited
// expression takes it over.
void inspect(std::unique_lock<std::mutex> &lock);

cppcoro::task<> plain_function() {
  std::unique_lock<std::mutex> lock(mu);
  inspect(lock);
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'plain_function'; {{.*}} [coro-lock-across-suspend]
  // CHECK-NOTES: :[[@LINE-4]]:32: note: 'mu' is locked here by 'lock'
}

// Released for that suspension only: a later suspension still holds it.
cppcoro::task<> later_suspension(async_condition &ready) {
  std::unique_lock<std::mutex> lock(mu);
  co_await ready.wait(lock);
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'lock' on 'mu' is held across this co_await in coroutine 'later_suspension'; {{.*}} [coro-lock-across-suspend]
  // CHECK-NOTES: :[[@LINE-4]]:32: note: 'mu' is locked here by 'lock'
}

// Unevaluated operands take no lock.
cppcoro::task<> unevaluated() {
  constexpr bool Nothrow = noexcept(mu.lock());
  using Guard = decltype(std::lock_guard<std::mutex>(mu));
  static_assert(sizeof(Guard) > 0 && !Nothrow);
  co_await tick();
}
