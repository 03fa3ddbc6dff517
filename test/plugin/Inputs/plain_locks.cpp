// Plain code, no coroscope in it: the plugin marks its locks. transfer and
// audit take accounts_mu and audit_mu in opposite orders on two threads,
// one after the other; Store::put holds a member mutex across a thread hop
// in a coroutine; tries takes audit_mu with a try_lock that succeeds and a
// pthread mutex; a unique_lock a condition variable waits on, a local
// mutex and a scoped_lock of two are left alone.
#include "support.hpp"

#include <pthread.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

using coroscope_test::task;
using coroscope_test::thread_pool;

namespace bank {
std::mutex accounts_mu, audit_mu;
int balance = 0;

void transfer() {
  std::lock_guard accounts(accounts_mu);
  std::lock_guard audit(audit_mu);
  ++balance;
}

void audit() {
  audit_mu.lock();
  {
    std::scoped_lock accounts(accounts_mu);
    --balance;
  }
  audit_mu.unlock();
}
} // namespace bank

struct Store {
  std::mutex mu_;
  int items = 0;
  task<> put(thread_pool &pool, std::atomic<bool> &done) {
    std::unique_lock lock(mu_);
    ++items;
    lock.unlock();
    co_await pool.schedule();
    done = true;
  }
  task<> put_holding(thread_pool &pool, std::atomic<bool> &done) {
    std::lock_guard<std::mutex> guard(mu_);
    co_await pool.schedule();
    done = true;
  }
};

int left_alone() {
  std::mutex local;
  std::lock_guard guard(local);
  std::mutex a, b;
  std::scoped_lock both(a, b);
  std::condition_variable ready;
  std::mutex waiting;
  std::unique_lock lock(waiting);
  ready.wait_for(lock, std::chrono::milliseconds(1));
  return 1;
}

pthread_mutex_t journal_mu = PTHREAD_MUTEX_INITIALIZER;

int tries() {
  int taken = 0;
  if (bank::audit_mu.try_lock()) {
    ++taken;
    bank::audit_mu.unlock();
  }
  if (pthread_mutex_trylock(&journal_mu) == 0) {
    ++taken;
    pthread_mutex_unlock(&journal_mu);
  }
  pthread_mutex_lock(&journal_mu);
  pthread_mutex_unlock(&journal_mu);
  return taken;
}

int main() {
  std::thread(bank::transfer).join();
  std::thread(bank::audit).join();
  Store store;
  std::atomic<bool> done{false};
  std::optional<thread_pool> pool(std::in_place, 1);
  auto first = store.put(*pool, done);
  first.start();
  while (!done)
    std::this_thread::yield();
  done = false;
  // std::mutex released on the pool's thread: undefined, and reported.
  auto second = store.put_holding(*pool, done);
  second.start();
  while (!done)
    std::this_thread::yield();
  pool.reset();
  std::printf("balance %d, items %d, %d, tries %d\n", bank::balance, store.items, left_alone(),
              tries());
}
