// Every lock operation the source engine marks, and those it leaves alone.
// Compiled only: the run-time behaviour is e2e/source-locks.test's.
#include <coro_test/async_mutex.h>
#include <coro_test/tasks.h>
#include <pthread.h>

#include <mutex>
#include <shared_mutex>

using cppcoro::task;

namespace bank {
std::mutex accounts_mu;
std::shared_mutex rates_mu;
pthread_mutex_t journal_mu = PTHREAD_MUTEX_INITIALIZER;
int balance = 0;

void transfer() {
  std::lock_guard<std::mutex> accounts(accounts_mu);
  std::shared_lock rates(rates_mu);
  ++balance;
}

int manual() {
  accounts_mu.lock();
  int taken = 0;
  if (accounts_mu.try_lock())
    ++taken;
  accounts_mu.unlock();
  rates_mu.lock_shared();
  rates_mu.unlock_shared();
  if (pthread_mutex_trylock(&journal_mu) == 0)
    pthread_mutex_unlock(&journal_mu);
  return taken;
}
} // namespace bank

task<int> value(int v) { co_return v; }

struct Cache {
  std::mutex mu_;
  cppcoro::async_mutex amu_;
  folly::coro::Mutex fmu_;
  int hits = 0;

  task<int> hit() {
    std::scoped_lock guard(mu_);
    co_return ++hits;
  }
  task<int> refresh() {
    auto held = co_await amu_.scoped_lock_async();
    int v = co_await value(hits);
    auto folly_held = co_await fmu_.co_scoped_lock();
    co_return v;
  }
  template <typename T> T read(T fallback) {
    std::lock_guard<std::mutex> guard(this->mu_);
    return hits ? T(hits) : fallback;
  }
};

Cache &the_cache() {
  static Cache cache;
  return cache;
}

auto counter = [] {
  static std::mutex counter_mu;
  std::lock_guard guard(counter_mu);
  return 1;
};

#define LOCKED(m) std::lock_guard macro_guard(m)

task<int> left_alone(std::mutex &param) {
  std::mutex local;
  std::lock_guard a(local);
  std::lock_guard b(param);
  LOCKED(bank::accounts_mu);
  if (std::lock_guard init(bank::accounts_mu); bank::balance > 0)
    ++bank::balance;
  std::unique_lock named(bank::accounts_mu);
  named.unlock();
  the_cache().mu_.lock();
  the_cache().mu_.unlock();
  int v = (bank::accounts_mu.try_lock(), co_await value(1));
  bank::accounts_mu.unlock();
  v += co_await (bank::accounts_mu.try_lock() ? value(v) : value(0));
  bank::accounts_mu.unlock();
  co_return v;
}

int main() {
  bank::transfer();
  std::mutex m;
  auto t = left_alone(m);
  auto h = the_cache().hit();
  auto r = the_cache().refresh();
  return bank::manual() + the_cache().read(1) + counter();
}
