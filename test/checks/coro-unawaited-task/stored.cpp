// RUN: %check_coro_tidy %s coro-unawaited-task %t

// A task stored in a local variable that nothing could ever await: reported
// at the declaration, with a note where the variable goes out of scope. Any
// use that could await, move, pass on, keep or capture the task silences it.

#include <coro_test/tasks.h>

#include <functional>
#include <utility>
#include <vector>

cppcoro::task<int> compute() { co_return 42; }
cppcoro::task<> flush() { co_return; }
eager::task start_upload() { co_return; }
template <typename Task> void spawn(Task &&) {}
template <typename... Tasks> cppcoro::task<> when_all(Tasks &&...) {
  co_return;
}
cppcoro::task<> when_all_vector(std::vector<cppcoro::task<>>) { co_return; }

cppcoro::task<> forgotten() {
  auto pending = compute();
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: variable 'pending' holds task 'cppcoro::task<int>' returned by 'compute', which is never awaited, moved or passed on; its body never runs [coro-unawaited-task]
  co_await flush();
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'pending' goes out of scope here

// (void)task silences -Wunused-variable and starts nothing; await_ready()
// only asks.
cppcoro::task<> silenced() {
  cppcoro::task<> later = flush();
  // CHECK-NOTES: :[[@LINE-1]]:19: warning: variable 'later' holds task 'cppcoro::task<void>' returned by 'flush', which is never awaited, moved or passed on; its body never runs
  (void)later;
  if (later.await_ready())
    co_return;
  co_return;
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'later' goes out of scope here

// The note is at the end of the scope the variable lives in.
void nested(bool retry) {
  if (retry) {
    auto again = flush();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: variable 'again' holds task 'cppcoro::task<void>' returned by 'flush'
  }
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'again' goes out of scope here
  for (auto t = compute(); retry; retry = false) {
    // CHECK-NOTES: :[[@LINE-1]]:13: warning: variable 't' holds task 'cppcoro::task<int>' returned by 'compute'
  }
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 't' goes out of scope here
}

// An eager task stored and dropped: its result and exceptions are lost.
void eager_dropped() {
  eager::task upload = start_upload();
  // CHECK-NOTES: :[[@LINE-1]]:15: warning: variable 'upload' holds task 'eager::task' returned by 'start_upload', which is never awaited, moved or passed on; it runs detached; its result and exceptions are lost
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'upload' goes out of scope here

// A task moved out of another variable is a new holder.
cppcoro::task<> moved_into_unused() {
  auto first = flush();
  auto second = std::move(first);
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: variable 'second' holds task 'cppcoro::task<void>', which is never awaited, moved or passed on; its body never runs
  co_return;
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'second' goes out of scope here

// Not reported: every way a task is awaited or handed on.
cppcoro::task<int> awaited() {
  auto a = compute();
  co_return co_await a;
}
cppcoro::task<int> awaited_moved() {
  auto a = compute();
  co_return co_await std::move(a);
}
cppcoro::task<int> awaited_on_some_path(bool fast) {
  auto a = compute();
  if (fast)
    co_return 0;
  co_return co_await a;
}
cppcoro::task<int> returned_from_normal_function() {
  auto a = compute();
  return a;
}
cppcoro::task<> co_returned_task_awaited_by_caller() {
  auto a = flush();
  co_await when_all(std::move(a));
}
void passed_to_spawn() {
  auto a = flush();
  spawn(std::move(a));
}
void passed_by_reference() {
  auto a = flush();
  spawn(a);
}
cppcoro::task<> stored_in_vector() {
  std::vector<cppcoro::task<>> batch;
  auto a = flush();
  batch.push_back(std::move(a));
  batch.emplace_back(flush());
  co_await when_all_vector(std::move(batch));
}
void captured_by_value() {
  auto a = flush();
  auto later = [t = std::move(a)]() mutable { return std::move(t); };
  spawn(later);
}
void captured_by_reference() {
  auto a = flush();
  auto later = [&] { spawn(std::move(a)); };
  later();
}
struct holder {
  cppcoro::task<> task;
};
void kept_in_an_object() {
  auto a = flush();
  holder h{std::move(a)};
  spawn(std::move(h.task));
}
void started_by_hand() {
  auto a = flush();
  a.handle.resume();
}
// A default-constructed or reference variable holds no new task.
void not_created(cppcoro::task<> &existing) {
  std::function<void()> f;
  cppcoro::task<> &alias = existing;
}
// A static holds the task for later.
void kept() { static auto forever = flush(); }
