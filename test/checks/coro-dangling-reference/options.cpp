// RUN: %check_coro_tidy %s coro-dangling-reference %t
// RUN: %check_coro_tidy -check-suffix=CUSTOM %s coro-dangling-reference %t -- \
// RUN:   -config="{CheckOptions: { \
// RUN:     coro-dangling-reference.ViewTypes: 'std::basic_string_view;text_ref', \
// RUN:     coro-dangling-reference.SpawnFunctions: 'fire', \
// RUN:     coro-dangling-reference.RunnerFunctions: 'drive', \
// RUN:     coro-dangling-reference.LambdaWrappers: 'keep_lambda'}}"

// ViewTypes adds classes that refer to memory they do not own;
// SpawnFunctions and RunnerFunctions name the functions that spawn a task
// and that run one; LambdaWrappers names the wrappers that copy a lambda
// into the frame they make (Seastar's coroutine::lambda style), whose calls
// are never reported. Setting an option replaces its defaults.

#include <coro_test/tasks.h>

#include <string>
#include <utility>

struct text_ref {
  text_ref(const std::string &s) : data(s.data()) {}
  const char *data;
};
cppcoro::task<int> parse(text_ref text) { co_return text.data[0]; }
cppcoro::task<int> length(const std::string &text) { co_return text.size(); }
template <typename Task> void fire(Task &&) {}
template <typename Task> void drive(Task &) {}
template <typename Task> void start(Task &) {}
template <typename F> cppcoro::task<int> keep_lambda(F &&f) { co_return co_await f(); }

void spawning() {
  fire(parse(std::string("p")));
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:14: warning: 'text_ref' parameter 'text' of lazy task 'parse' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is spawned by 'fire' and runs after this statement [coro-dangling-reference]
  auto job = length(std::string("l"));
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:21: warning: reference parameter 'text' of lazy task 'length' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'job' and run by 'drive' at line [[@LINE+1]]
  drive(job);
  // CHECK-FIXES: {{^}}cppcoro::task<int> length(std::string text) { co_return text.size(); }{{$}}
  // CHECK-FIXES-CUSTOM: {{^}}cppcoro::task<int> length(std::string text) { co_return text.size(); }{{$}}
  auto other = length(std::string("s"));
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: reference parameter 'text' of lazy task 'length' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'other' and run by 'start' at line [[@LINE+1]]
  start(other);
}

cppcoro::task<> wrapped() {
  std::string prefix = "p";
  auto direct = [prefix]() -> cppcoro::task<int> { co_return prefix.size(); }();
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: capture 'prefix' of lazy task 'wrapped::(lambda at {{.*}})' lives in a temporary lambda that is destroyed at the end of this statement; the task is stored in 'direct' and awaited at line [[@LINE+4]]
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:17: warning: capture 'prefix' of lazy task 'wrapped::(lambda at {{.*}})' lives in a temporary lambda that is destroyed at the end of this statement; the task is stored in 'direct' and awaited at line [[@LINE+3]]
  auto kept = keep_lambda([prefix]() -> cppcoro::task<int> { co_return prefix.size(); });
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: reference parameter 'f' of lazy task 'keep_lambda' is bound to a temporary '(lambda at {{.*}})' that is destroyed at the end of this statement; the task is stored in 'kept' and awaited at line [[@LINE+2]]
  co_await direct;
  co_await kept;
}
