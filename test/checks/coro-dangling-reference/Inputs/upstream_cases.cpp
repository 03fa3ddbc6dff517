// Cases for upstream-comparison.test: each runs from its `// case:` line to
// the next, with its own callee, so that a warning at a callee's parameter
// counts for the case it belongs to.
#include <coro_test/tasks.h>

#include <coroutine>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

std::string global_name = "g";
template <typename Task> void spawn_detached(Task &&) {}

// A task whose co_await yields a reference into its own frame, as cppcoro's.
template <typename T> struct ref_task {
  struct promise_type {
    std::optional<T> value;
    ref_task get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() {}
  };
  std::coroutine_handle<promise_type> handle;
  bool await_ready() noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<>) { return handle; }
  T &&await_resume() { return std::move(*handle.promise().value); }
};

// case: bug_temporary_stored_then_awaited
cppcoro::task<int> lookup1(const std::string &key) { co_return key.size(); }
cppcoro::task<> caller1() {
  auto pending = lookup1(std::string("user"));
  co_await pending;
}

// case: bug_local_dies_in_loop_before_await
cppcoro::task<int> lookup2(const std::string &key) { co_return key.size(); }
cppcoro::task<> caller2(std::vector<std::string> names, cppcoro::task<> (*all)(std::vector<cppcoro::task<int>> &)) {
  std::vector<cppcoro::task<int>> tasks;
  for (auto &n : names) {
    std::string key = "user:" + n;
    tasks.push_back(lookup2(key));
  }
  co_await all(tasks);
}

// case: bug_string_view_to_temporary
cppcoro::task<int> measure3(std::string_view name) { co_return name.size(); }
cppcoro::task<> caller3(int id) {
  auto pending = measure3("user:" + std::to_string(id));
  co_await pending;
}

// case: bug_spawned_with_temporary
cppcoro::task<> write4(const std::string &line) { co_return (void)line.size(); }
void caller4() { spawn_detached(write4(std::string("line"))); }

// case: bug_member_coroutine_on_temporary
struct Client5 {
  std::string host = "db";
  cppcoro::task<int> fetch() { co_return host.size(); }
};
cppcoro::task<> caller5() {
  auto pending = Client5{}.fetch();
  co_await pending;
}

// case: bug_temporary_capturing_lambda_task_stored
cppcoro::task<> caller6(std::string prefix) {
  auto pending = [prefix]() -> cppcoro::task<int> { co_return prefix.size(); }();
  co_await pending;
}

// case: bug_reference_to_await_result
ref_task<std::string> load7() { co_return "x"; }
ref_task<int> caller7() {
  const auto &text = co_await load7();
  co_return text.size();
}

// case: ok_temporary_awaited_in_place
cppcoro::task<int> lookup8(const std::string &key) { co_return key.size(); }
cppcoro::task<> caller8() { co_await lookup8(std::string("user")); }

// case: ok_local_outlives_the_task
cppcoro::task<int> lookup9(const std::string &key) { co_return key.size(); }
cppcoro::task<> caller9() {
  std::string key = "user";
  auto pending = lookup9(key);
  co_await pending;
}

// case: ok_global_outlives_the_task
cppcoro::task<int> lookup10(const std::string &key) { co_return key.size(); }
cppcoro::task<> caller10() {
  auto pending = lookup10(global_name);
  co_await pending;
}

// case: ok_lambda_outlives_its_task
cppcoro::task<> caller11(std::string prefix) {
  auto job = [prefix]() -> cppcoro::task<int> { co_return prefix.size(); };
  co_await job();
}

// case: ok_value_parameter
cppcoro::task<int> lookup12(std::string key) { co_return key.size(); }
cppcoro::task<> caller12() {
  auto pending = lookup12(std::string("user"));
  co_await pending;
}

// case: ok_await_result_by_value
ref_task<int> caller13() {
  auto text = co_await load7();
  co_return text.size();
}
