// RUN: %check_coro_tidy %s coro-lock-across-suspend %t -- -- %asio_flags

// Templates (through their instantiations), lambdas, member functions and
// real Asio coroutines.

#include <coro_test/tasks.h>

#include <asio.hpp>

#include <chrono>
#include <mutex>

using namespace std::chrono_literals;

cppcoro::task<> tick();

// A template is analysed through its instantiations; each place is
// reported once, with a note naming an instantiation.
template <typename Mutex> cppcoro::task<> locked_tick(Mutex &m) {
  std::lock_guard<Mutex> guard(m);
  co_await tick();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: lock 'guard' on 'm' is held across this co_await in coroutine 'locked_tick'
  // CHECK-NOTES: :[[@LINE-3]]:26: note: 'm' is locked here by 'guard'
  // CHECK-NOTES: :[[@LINE+5]]:22: note: in the instantiation 'locked_tick<std::mutex>', instantiated here
}
std::mutex first;
std::recursive_mutex second;
void instantiate() {
  cppcoro::sync_wait(locked_tick(first));
  cppcoro::sync_wait(locked_tick(second));
}

// Member functions lock members.
class cache {
public:
  cppcoro::task<> refresh() {
    std::unique_lock lock(mu_);
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'lock' on 'mu_' is held across this co_await in coroutine 'cache::refresh'
    // CHECK-NOTES: :[[@LINE-3]]:22: note: 'mu_' is locked here by 'lock'
    lock.unlock();
    co_await tick();
  }
  cppcoro::task<> by_hand() {
    mu_.lock();
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: mutex 'mu_' (locked by hand) is held across this co_await in coroutine 'cache::by_hand'
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'mu_' is locked here by hand
    mu_.unlock();
  }

private:
  std::mutex mu_;
};

// A coroutine lambda suspending under its own lock is reported; a lambda
// defined under a lock, but suspending after it is released, is not; nor is
// the enclosing coroutine for a lambda it only defines.
cppcoro::task<> lambdas(std::mutex &m) {
  auto locked = [&]() -> cppcoro::task<> {
    std::lock_guard guard(m);
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'guard' on 'm' is held across this co_await in coroutine lambda in 'lambdas'
    // CHECK-NOTES: :[[@LINE-3]]:21: note: 'm' is locked here by 'guard'
  };
  std::unique_lock held(m);
  auto defined_under_lock = [&]() -> cppcoro::task<> { co_await tick(); };
  held.unlock();
  co_await defined_under_lock();
  co_await locked();
  // A generic coroutine lambda, through its instantiation.
  auto generic = [](auto &mutex) -> cppcoro::task<> {
    std::scoped_lock guard(mutex);
    co_await tick();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'guard' on 'mutex' is held across this co_await in coroutine lambda in 'lambdas'
    // CHECK-NOTES: :[[@LINE-3]]:22: note: 'mutex' is locked here by 'guard'
    // CHECK-NOTES: :[[@LINE+2]]:{{[0-9]+}}: note: in the instantiation 'operator()<std::mutex>', instantiated here
  };
  co_await generic(m);
}

// Asio: a steady_timer wait under a lock_guard; the ok shape takes the lock
// only between suspensions.
std::mutex stats_mutex;
int stats = 0;
asio::awaitable<void> reporter() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    {
      std::lock_guard lock(stats_mutex);
      ++stats;
    }
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
    std::lock_guard lock(stats_mutex);
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: lock 'lock' on 'stats_mutex' is held across this co_await in coroutine 'reporter'
    // CHECK-NOTES: :[[@LINE-4]]:21: note: 'stats_mutex' is locked here by 'lock'
  }
}
