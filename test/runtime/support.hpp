// Small coroutine types for the runtime tests: a lazy task with symmetric
// transfer (cppcoro/folly style), a fire-and-forget coroutine, an event that
// the test fires by hand, a thread pool whose schedule() hops threads, a
// mutex any thread may unlock, and an async mutex.
#pragma once

#include <coroscope/coroscope.hpp>

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace coroscope_test {

template <typename T> class task;

namespace detail {
struct promise_base {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  std::suspend_always initial_suspend() noexcept { return {}; }
  auto final_suspend() noexcept {
    struct transfer {
      std::coroutine_handle<> next;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return next; }
      void await_resume() noexcept {}
    };
    return transfer{continuation ? continuation : std::noop_coroutine()};
  }
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  void unhandled_exception() { error = std::current_exception(); }
#else
  void unhandled_exception() {}
#endif
};
template <typename T> struct promise : promise_base {
  std::optional<T> value;
  void return_value(T v) { value = std::move(v); }
  T take() { return std::move(*value); }
};
template <> struct promise<void> : promise_base {
  void return_void() {}
  void take() {}
};
} // namespace detail

template <typename T = void> class [[nodiscard]] task {
public:
  struct promise_type : detail::promise<T> {
    task get_return_object() {
      return task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
  };
  explicit task(std::coroutine_handle<promise_type> h) : handle_(h) {}
  task(task &&other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  ~task() {
    if (handle_)
      handle_.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
    if (handle_.promise().error)
      std::rethrow_exception(handle_.promise().error);
#endif
    return handle_.promise().take();
  }
  // Runs a root task on this thread until it first suspends or ends.
  void start() { handle_.resume(); }
  bool done() const { return handle_.done(); }
  bool failed() const { return handle_.done() && handle_.promise().error != nullptr; }
  T result() { return await_resume(); }

private:
  std::coroutine_handle<promise_type> handle_;
};

// A coroutine that starts at once and frees itself when it ends.
struct fire_and_forget {
  struct promise_type {
    fire_and_forget get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

// Resumes its waiters on the thread that fires it.
class event {
public:
  auto operator co_await() noexcept {
    struct awaiter {
      event &e;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(e.lock_);
        if (e.fired_)
          return false;
        e.waiters_.push_back(h);
        return true;
      }
      void await_resume() noexcept {}
    };
    return awaiter{*this};
  }
  void fire() {
    std::vector<std::coroutine_handle<>> waiters;
    {
      std::lock_guard guard(lock_);
      fired_ = true;
      waiters.swap(waiters_);
    }
    for (auto h : waiters)
      h.resume();
  }
  std::size_t waiting() {
    std::lock_guard guard(lock_);
    return waiters_.size();
  }

private:
  std::mutex lock_;
  bool fired_ = false;
  std::vector<std::coroutine_handle<>> waiters_;
};

// A fixed pool of threads resuming coroutines from one queue.
class thread_pool {
public:
  explicit thread_pool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
      workers_.emplace_back([this] { work(); });
  }
  ~thread_pool() {
    {
      std::lock_guard guard(lock_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto &t : workers_)
      t.join();
  }
  auto schedule() noexcept {
    struct awaiter {
      thread_pool &pool;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { pool.post(h); }
      void await_resume() noexcept {}
    };
    return awaiter{*this};
  }
  void post(std::coroutine_handle<> h) {
    {
      std::lock_guard guard(lock_);
      queue_.push_back(h);
    }
    wake_.notify_one();
  }

private:
  void work() {
    std::unique_lock lock(lock_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      auto h = queue_.front();
      queue_.pop_front();
      lock.unlock();
      h.resume();
      lock.lock();
    }
  }
  std::mutex lock_;
  std::condition_variable wake_;
  std::deque<std::coroutine_handle<>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// A mutex any thread may unlock: the lock tests make the mistakes the
// runtime must report (a std::mutex released on another thread) without
// making the test program itself undefined, and ThreadSanitizer does not
// see their planted inversions.
struct spin_mutex {
  std::atomic<bool> locked{false};
  void lock() {
    while (locked.exchange(true, std::memory_order_acquire))
      std::this_thread::yield();
  }
  void unlock() { locked.store(false, std::memory_order_release); }
};

// A coroutine mutex in cppcoro's style: co_await m.scoped_lock() suspends
// until the lock is free and returns a guard; unlock resumes the next
// waiter inline. One thread at a time, as the tests use it.
class async_mutex {
public:
  struct guard {
    async_mutex *m;
    guard(async_mutex *m) : m(m) {}
    guard(guard &&other) noexcept : m(std::exchange(other.m, nullptr)) {}
    ~guard() {
      if (m != nullptr)
        m->unlock();
    }
  };
  auto scoped_lock() {
    struct awaiter {
      async_mutex &m;
      bool await_ready() {
        if (m.locked_)
          return false;
        m.locked_ = true;
        return true;
      }
      void await_suspend(std::coroutine_handle<> h) { m.waiters_.push_back(h); }
      guard await_resume() { return guard{&m}; }
    };
    return awaiter{*this};
  }
  // Forgets the waiters, so that destroying a deadlocked test's frames
  // does not resume one of them.
  void abandon_waiters() { waiters_.clear(); }
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    auto next = waiters_.front();
    waiters_.pop_front();
    next.resume();
  }

private:
  bool locked_ = false;
  std::deque<std::coroutine_handle<>> waiters_;
};

} // namespace coroscope_test
