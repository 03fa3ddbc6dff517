// One coroutine per case, for comparing coro-lock-across-suspend with
// misc-coroutine-hostile-raii and cppcoreguidelines-no-suspend-with-lock.
// Each case's function starts at column 0 and ends with a lone '}'.
#include <coro_test/tasks.h>

#include <mutex>
#include <shared_mutex>
#include <utility>

std::mutex mu;
std::shared_mutex rw;
cppcoro::task<> tick();
void consume(std::unique_lock<std::mutex>);

cppcoro::task<> bug_lock_guard_across_await() {
  std::lock_guard<std::mutex> guard(mu);
  co_await tick();
}

cppcoro::task<> bug_scoped_lock_across_await() {
  std::scoped_lock guard(mu);
  co_await tick();
}

cppcoro::task<> bug_unique_lock_across_await() {
  std::unique_lock<std::mutex> lock(mu);
  co_await tick();
}

cppcoro::task<> bug_shared_lock_across_await() {
  std::shared_lock<std::shared_mutex> lock(rw);
  co_await tick();
}

cppcoro::task<> bug_guard_across_await_in_loop() {
  for (int i = 0; i < 3; ++i) {
    std::lock_guard<std::mutex> guard(mu);
    co_await tick();
  }
}

cppcoro::task<> bug_lock_taken_later_in_loop() {
  std::unique_lock<std::mutex> lock(mu, std::defer_lock);
  for (int i = 0; i < 3; ++i) {
    co_await tick();
    lock.lock();
  }
}

cppcoro::generator<int> bug_guard_at_co_yield() {
  std::lock_guard<std::mutex> guard(mu);
  co_yield 1;
}

cppcoro::task<> bug_manual_lock_across_await() {
  mu.lock();
  co_await tick();
  mu.unlock();
}

cppcoro::task<> bug_guard_in_if_initializer(bool b) {
  if (std::lock_guard<std::mutex> guard(mu); b)
    co_await tick();
}

cppcoro::task<> ok_unique_lock_unlocked() {
  std::unique_lock<std::mutex> lock(mu);
  lock.unlock();
  co_await tick();
}

cppcoro::task<> ok_unique_lock_released() {
  std::unique_lock<std::mutex> lock(mu);
  lock.release();
  mu.unlock();
  co_await tick();
}

cppcoro::task<> ok_unique_lock_moved_away() {
  std::unique_lock<std::mutex> lock(mu);
  consume(std::move(lock));
  co_await tick();
}

cppcoro::task<> ok_guard_scope_ended() {
  {
    std::lock_guard<std::mutex> guard(mu);
  }
  co_await tick();
}

cppcoro::task<int> ok_co_return_with_guard() {
  std::lock_guard<std::mutex> guard(mu);
  co_return 1;
}

cppcoro::task<> ok_deferred_never_locked() {
  std::unique_lock<std::mutex> lock(mu, std::defer_lock);
  co_await tick();
}

cppcoro::task<> ok_lambda_defined_under_lock() {
  std::unique_lock<std::mutex> lock(mu);
  auto later = []() -> cppcoro::task<> { co_await tick(); };
  lock.unlock();
  co_await later();
}
