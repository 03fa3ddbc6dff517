// Reduced from libcoro's test_ring_buffer.cpp ("issue-242 ... complex objects
// on consume in coroutines"): a task whose await_resume returns T&& (as
// libcoro's does), and a coroutine that initializes a local from a co_await
// and moves a short std::string out of it. g++ 12 builds the local by
// copying the bytes of a frame temporary when the initializer is
// `(anything, co_await child())`: the string keeps a pointer into that
// temporary's small buffer, in the frame, which is freed before it is read.
#include <coroutine>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>

template <typename T> struct task {
  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;
    task get_return_object() { return task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto c = h.promise().continuation;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_value(T v) { value.emplace(std::move(v)); }
    void unhandled_exception() { std::terminate(); }
  };
  explicit task(std::coroutine_handle<promise_type> h) : h(h) {}
  task(task &&o) noexcept : h(std::exchange(o.h, {})) {}
  ~task() {
    if (h)
      h.destroy();
  }
  struct awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
      h.promise().continuation = c;
      return h;
    }
    T &&await_resume() { return std::move(*h.promise().value); }
  };
  awaiter operator co_await() && noexcept { return awaiter{h}; }
  std::coroutine_handle<promise_type> h;
};

task<std::string> child() { co_return std::string("Hello World!"); }

task<std::string> parent() {
  auto s = co_await child();
  co_return std::move(s);
}

int main() {
  std::string out;
  {
    task<std::string> t = parent();
    t.h.resume();
    out = std::move(*t.h.promise().value);
  } // the parent's frame is freed here
  std::printf("%s\n", out.c_str());
  return out == "Hello World!" ? 0 : 1;
}
