// Asynchronous mutexes in the styles of cppcoro (lock_async(),
// scoped_lock_async() and an async_mutex_lock guard) and folly
// (co_scoped_lock() giving a std::unique_lock), shared by the lock checks'
// tests. Acquiring never suspends: the tests only compile them.
#pragma once

#include <coroutine>
#include <mutex>

namespace cppcoro {
class async_mutex;
class async_mutex_lock {
public:
  async_mutex_lock(async_mutex &m, std::adopt_lock_t) : m(&m) {}
  async_mutex_lock(async_mutex_lock &&o) : m(o.m) { o.m = nullptr; }
  ~async_mutex_lock();

private:
  async_mutex *m;
};
class async_mutex {
public:
  struct lock_operation {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    void await_resume() noexcept {}
  };
  struct scoped_lock_operation {
    async_mutex &m;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    async_mutex_lock await_resume() noexcept { return {m, std::adopt_lock}; }
  };
  lock_operation lock_async() { return {}; }
  scoped_lock_operation scoped_lock_async() { return {*this}; }
  void unlock() {}
};
inline async_mutex_lock::~async_mutex_lock() {
  if (m)
    m->unlock();
}
} // namespace cppcoro

namespace folly::coro {
class Mutex {
public:
  void lock() {}
  bool try_lock() { return true; }
  void unlock() {}
  struct scoped_lock_operation {
    using folly_awaitable = void; // accepted by folly::coro::Task
    Mutex &m;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    std::unique_lock<Mutex> await_resume() noexcept {
      return std::unique_lock<Mutex>(m, std::adopt_lock);
    }
  };
  scoped_lock_operation co_scoped_lock() { return {*this}; }
};
} // namespace folly::coro
