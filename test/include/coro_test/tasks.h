// Task types written in the styles of the coroutine libraries users run,
// shared by the check tests and the examples' tests. They compile and work;
// they are not mocks.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

// cppcoro style: a lazy task<T> that starts when awaited and resumes its
// awaiter by symmetric transfer.
namespace cppcoro {
template <typename T = void> class task;

namespace detail {
struct final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<>
  await_suspend(std::coroutine_handle<Promise> h) noexcept {
    if (auto c = h.promise().continuation)
      return c;
    return std::noop_coroutine();
  }
  void await_resume() noexcept {}
};
struct promise_base {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  std::suspend_always initial_suspend() noexcept { return {}; }
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};
} // namespace detail

template <typename T> class [[nodiscard]] task {
public:
  struct promise_type : detail::promise_base {
    std::optional<T> value;
    task get_return_object() {
      return task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    void return_value(T v) { value = std::move(v); }
  };
  explicit task(std::coroutine_handle<promise_type> h) : handle(h) {}
  task(task &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  task &operator=(task &&o) noexcept {
    if (this != &o) {
      if (handle)
        handle.destroy();
      handle = std::exchange(o.handle, {});
    }
    return *this;
  }
  ~task() {
    if (handle)
      handle.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) {
    handle.promise().continuation = awaiter;
    return handle;
  }
  T await_resume() {
    if (handle.promise().error)
      std::rethrow_exception(handle.promise().error);
    return std::move(*handle.promise().value);
  }

  std::coroutine_handle<promise_type> handle;
};

template <> class [[nodiscard]] task<void> {
public:
  struct promise_type : detail::promise_base {
    task get_return_object() {
      return task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    void return_void() {}
  };
  explicit task(std::coroutine_handle<promise_type> h) : handle(h) {}
  task(task &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  task &operator=(task &&o) noexcept {
    if (this != &o) {
      if (handle)
        handle.destroy();
      handle = std::exchange(o.handle, {});
    }
    return *this;
  }
  ~task() {
    if (handle)
      handle.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) {
    handle.promise().continuation = awaiter;
    return handle;
  }
  void await_resume() {
    if (handle.promise().error)
      std::rethrow_exception(handle.promise().error);
  }
  std::coroutine_handle<promise_type> handle;
};

template <typename T> class generator {
public:
  struct promise_type {
    const T *current = nullptr;
    generator get_return_object() {
      return generator{
          std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(const T &v) noexcept {
      current = &v;
      return {};
    }
    void return_void() {}
    void unhandled_exception() { throw; }
  };
  explicit generator(std::coroutine_handle<promise_type> h) : handle(h) {}
  generator(generator &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  ~generator() {
    if (handle)
      handle.destroy();
  }
  bool next() {
    handle.resume();
    return !handle.done();
  }
  const T &value() const { return *handle.promise().current; }

private:
  std::coroutine_handle<promise_type> handle;
};

/// Runs a task to completion on the calling thread, blocking it.
template <typename Task> void sync_wait(Task &&t) {
  auto h = t.handle;
  h.resume();
}
} // namespace cppcoro

// folly style: the promise's await_transform accepts only awaitables that
// opt in, so wrapping a co_await operand in a foreign type fails to compile.
namespace folly::coro {
template <typename T> class Task;

struct ReadyAwaitable {
  int value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return value; }
  using folly_awaitable = void;
};

template <typename A>
concept FollyAwaitable = requires { typename std::decay_t<A>::folly_awaitable; };

template <typename T> class Task {
public:
  using folly_awaitable = void;
  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;
    Task get_return_object() {
      return Task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    cppcoro::detail::final_awaiter final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { throw; }
    template <FollyAwaitable A> A &&await_transform(A &&a) {
      return static_cast<A &&>(a);
    }
  };
  explicit Task(std::coroutine_handle<promise_type> h) : handle(h) {}
  Task(Task &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  ~Task() {
    if (handle)
      handle.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) {
    handle.promise().continuation = awaiter;
    return handle;
  }
  T await_resume() { return std::move(*handle.promise().value); }
  std::coroutine_handle<promise_type> handle;
};

template <typename T> T blockingWait(Task<T> &&t) {
  t.handle.resume();
  return std::move(*t.handle.promise().value);
}
} // namespace folly::coro

// libcoro style: coro::task<T> plus a thread pool whose schedule() is
// awaited to hop threads.
namespace coro {
template <typename T = void> using task = cppcoro::task<T>;

struct thread_pool {
  struct schedule_operation {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    void await_resume() const noexcept {}
  };
  schedule_operation schedule() { return {}; }
};

template <typename Task> void sync_wait(Task &&t) { cppcoro::sync_wait(t); }
} // namespace coro

// An eager task: it starts running when called and can be awaited later for
// its result, like a spawned operation's handle.
namespace eager {
class task {
public:
  struct promise_type {
    std::coroutine_handle<> continuation;
    std::exception_ptr error;
    task get_return_object() {
      return task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    cppcoro::detail::final_awaiter final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
  };
  explicit task(std::coroutine_handle<promise_type> h) : handle(h) {}
  task(task &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  ~task() {
    if (handle)
      handle.destroy();
  }
  bool await_ready() const noexcept { return handle.done(); }
  void await_suspend(std::coroutine_handle<> awaiter) {
    handle.promise().continuation = awaiter;
  }
  void await_resume() {
    if (handle.promise().error)
      std::rethrow_exception(handle.promise().error);
  }
  std::coroutine_handle<promise_type> handle;
};

// Runs at once and cannot be awaited: a coroutine return type, not a task.
struct fire_and_forget {
  struct promise_type {
    fire_and_forget get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};
} // namespace eager
