// Async mutexes' scoped locks awaited into a guard, in cppcoro's style
// (scoped_lock_async) and folly's (co_scoped_lock), with no coroscope in
// the source: both engines mark them. refresh takes Cache::amu_ then
// Cache::fmu_, and holds Cache::amu_ across a hop to the pool's thread,
// which an async mutex allows.
#include "support.hpp"

#include <coro_test/async_mutex.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

using coroscope_test::task;
using coroscope_test::thread_pool;

struct Cache {
  cppcoro::async_mutex amu_;
  folly::coro::Mutex fmu_;
  int hits = 0;

  task<> refresh(thread_pool &pool, std::atomic<bool> &done) {
    auto held = co_await amu_.scoped_lock_async();
    co_await pool.schedule();
    {
      auto inner = co_await fmu_.co_scoped_lock();
      ++hits;
    }
    done = true;
  }
};

int main() {
  Cache cache;
  std::optional<thread_pool> pool(std::in_place, 1);
  std::atomic<bool> done{false};
  // Each task lives until the pool has stopped: its coroutine may still
  // run on the pool's thread after it says it is done.
  auto first = cache.refresh(*pool, done);
  first.start();
  while (!done)
    std::this_thread::yield();
  done = false;
  auto second = cache.refresh(*pool, done);
  second.start();
  while (!done)
    std::this_thread::yield();
  pool.reset();
  std::printf("hits %d\n", cache.hits);
}
