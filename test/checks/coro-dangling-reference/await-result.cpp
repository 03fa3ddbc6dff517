// RUN: %check_coro_tidy %s coro-dangling-reference %t

// `const auto &r = co_await f();` where the awaiter's await_resume()
// returns a reference into the temporary task or awaitable: the temporary
// dies at the end of the statement and 'r' dangles at its next use. A result
// returned by value is lifetime-extended and fine.

#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <utility>

// Like cppcoro's task: `co_await task` yields `T &&` into the task's frame.
template <typename T> class ref_task {
public:
  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;
    ref_task get_return_object() {
      return ref_task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<>
      await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation ? h.promise().continuation
                                        : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { throw; }
  };
  explicit ref_task(std::coroutine_handle<promise_type> h) : handle(h) {}
  ref_task(ref_task &&o) noexcept : handle(std::exchange(o.handle, {})) {}
  ~ref_task() {
    if (handle)
      handle.destroy();
  }
  struct awaiter {
    std::coroutine_handle<promise_type> handle;
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) {
      handle.promise().continuation = c;
      return handle;
    }
    T &&await_resume() { return std::move(*handle.promise().value); }
  };
  awaiter operator co_await() && noexcept { return awaiter{handle}; }
  std::coroutine_handle<promise_type> handle;
};

// An awaitable that hands out a reference to its own member, and one that
// hands out a reference to something it does not own.
struct boxed {
  std::string value = "boxed";
  bool await_ready() noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  const std::string &await_resume() noexcept { return value; }
};
struct borrowed {
  const std::string &value;
  bool await_ready() noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  const std::string &await_resume() noexcept { return value; }
};

ref_task<std::string> load() { co_return "payload"; }
ref_task<int> count() { co_return 3; }
std::string shared = "shared";

ref_task<int> consumer() {
  const auto &text = co_await load();
  // CHECK-NOTES: :[[@LINE-1]]:15: warning: reference 'text' is bound to the result of a co_await that refers into the temporary task 'ref_task<std::basic_string<char>>', which is destroyed at the end of this statement; 'text' is used at line [[@LINE+4]] [coro-dangling-reference]
  // CHECK-NOTES: :[[@LINE-2]]:22: note: the temporary is awaited here
  // CHECK-NOTES: :[[@LINE+2]]:7: note: 'text' is used here, after it was destroyed
  // CHECK-FIXES: {{^}}  const auto text = co_await load();{{$}}
  if (text.empty())
    co_return 0;
  auto &&n = co_await count();
  // CHECK-NOTES: :[[@LINE-1]]:10: warning: reference 'n' is bound to the result of a co_await that refers into the temporary task 'ref_task<int>', which is destroyed at the end of this statement; 'n' is used at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE-2]]:14: note: the temporary is awaited here
  // CHECK-NOTES: :[[@LINE+2]]:11: note: 'n' is used here, after it was destroyed
  // CHECK-FIXES: {{^}}  auto n = co_await count();{{$}}
  int m = n + 1;
  const std::string &b = co_await boxed{};
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: reference 'b' is bound to the result of a co_await that refers into the temporary awaitable 'boxed', which is destroyed at the end of this statement; 'b' is used at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE-2]]:26: note: the temporary is awaited here
  // CHECK-NOTES: :[[@LINE+2]]:8: note: 'b' is used here, after it was destroyed
  // CHECK-FIXES: {{^}}  const std::string b = co_await boxed{};{{$}}
  m += b.size();

  // Not reported: a value; a reference into an awaitable that is a named
  // local; a reference the awaiter does not own; a result used only in
  // its own statement.
  auto value = co_await load();
  boxed named;
  const std::string &from_named = co_await named;
  const std::string &not_owned = co_await borrowed{shared};
  m += value.size() + from_named.size() + not_owned.size();
  m += (co_await load()).size();
  co_return m;
}
