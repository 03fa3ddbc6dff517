// Coroutines destroyed at a co_yield: the result tasks of sync_wait and
// when_all end with one by design (cppcoro's `co_yield co_await a;`,
// libcoro's `if constexpr` form) and finish there; a generator whose
// consumer stops early is abandoned, unless it stopped at the last yield.
#include <coroutine>
#include <cstdio>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

// As cppcoro's sync_wait_task: yield_value keeps the result and suspends
// for good; the owner reads it and destroys the frame.
struct result_task {
  struct promise_type {
    int *result = nullptr;
    result_task get_return_object() {
      return result_task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int &&value) noexcept {
      result = std::addressof(value);
      return {};
    }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  explicit result_task(std::coroutine_handle<promise_type> h) : handle(h) {}
  result_task(result_task &&other) noexcept : handle(std::exchange(other.handle, {})) {}
  ~result_task() {
    if (handle)
      handle.destroy();
  }
  int get() {
    handle.resume();
    return *handle.promise().result;
  }
  std::coroutine_handle<promise_type> handle;
};

struct generator {
  struct promise_type {
    int value = 0;
    generator get_return_object() {
      return generator{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int v) noexcept {
      value = v;
      return {};
    }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  explicit generator(std::coroutine_handle<promise_type> h) : handle(h) {}
  ~generator() { handle.destroy(); }
  int next() {
    handle.resume();
    return handle.promise().value;
  }
  std::coroutine_handle<promise_type> handle;
};

struct ready {
  int v;
  bool await_ready() noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() noexcept { return v; }
};

template <typename Awaitable> result_task make_result_task(Awaitable a) {
  co_yield co_await a;
}

template <typename Awaitable> result_task make_result_task_if(Awaitable a) {
  if constexpr (std::is_void_v<decltype(a.await_resume())>) {
    co_await a;
    co_return;
  } else {
    co_yield co_await a;
  }
}

generator counting(int n) {
  for (int i = 0; i < n; ++i)
    co_yield i;
}

generator two() {
  co_yield 1;
  co_yield 2;
}

int main() {
  std::printf("%d\n", make_result_task(ready{41}).get());
  std::printf("%d\n", make_result_task_if(ready{42}).get());
  {
    generator g = counting(10);
    g.next();
    std::printf("%d\n", g.next());
  }
  {
    generator g = two();
    g.next();
    std::printf("%d\n", g.next());
  }
  {
    generator g = two();
    std::printf("%d\n", g.next());
  }
}
