// A program that makes the lock mistakes the runtime reports, marked by
// hand: a coroutine that holds a mutex across a hop to another thread and
// releases it there; two coroutines on two threads that take two mutexes
// in opposite orders, one after the other, so the run never deadlocks; and
// an async mutex held across a suspension, which is fine. It prints what it
// did; the report says what the runtime saw.
#include "support.hpp"

#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

using coroscope_test::spin_mutex; // any thread may unlock it
using coroscope_test::task;
using coroscope_test::thread_pool;

namespace {

struct Store {
  spin_mutex mu_, index_mu_;
};
Store store;

task<> save(thread_pool &pool, std::atomic<int> &done) {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, guard, store.mu_, "Store::mu_");
  COROSCOPE_AWAIT_SCHEDULE(pool.schedule()); // line 28: held across this hop
  ++done;
  COROSCOPE_RETURN();
}

task<> reindex() {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, store.mu_, "Store::mu_");
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, store.index_mu_, "Store::index_mu_");
  COROSCOPE_RETURN();
}

task<> lookup() {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, store.index_mu_, "Store::index_mu_");
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, store.mu_, "Store::mu_");
  COROSCOPE_RETURN();
}

} // namespace

int main() {
  std::atomic<int> done{0};
  {
    std::optional<thread_pool> pool(std::in_place, 1);
    auto t = save(*pool, done);
    t.start();
    while (done.load() == 0)
      std::this_thread::yield();
    pool.reset();
  }
  std::thread([] { auto t = reindex(); t.start(); }).join();
  std::thread([] { auto t = lookup(); t.start(); }).join();
  std::printf("saved %d, reindexed, looked up\n", done.load());
}
