// RUN: %check_coro_tidy %s coro-dangling-reference %t -- -header-filter=.* -- -I%S/Inputs

// Coroutines from a header, templates and their instantiations, generic
// lambdas, macros, and the folly and libcoro task styles. A fix-it is
// offered only where the change is certain: never for a header's or a
// template's parameter.

#include "store_api.h"

#include <string>
#include <utility>
#include <vector>

// folly style: a lazy Task whose promise has await_transform.
folly::coro::Task<int> header_callee() {
  auto pending = store::put(std::string("k"));
  // CHECK-NOTES: :[[@LINE-1]]:29: warning: reference parameter 'key' of lazy task 'store::put' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+3]] [coro-dangling-reference]
  // CHECK-NOTES: :[[@LINE+2]]:11: note: the task is awaited here
  // CHECK-NOTES: store_api.h:10:30: note: 'store::put' reads 'key' here, when the task runs
  int n = co_await std::move(pending);
  co_return n;
}

// A template callee, instantiated with std::string.
cppcoro::task<> template_callee() {
  auto pending = store::get(std::string("k"));
  // CHECK-NOTES: :[[@LINE-1]]:29: warning: reference parameter 'key' of lazy task 'store::get' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+3]]
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is awaited here
  // CHECK-NOTES: store_api.h:13:30: note: 'store::get' reads 'key' here, when the task runs
  co_await pending;
}

// A template caller: reported once, in its instantiation.
template <typename Text> cppcoro::task<> template_caller(Text text) {
  auto pending = store::get(Text(text));
  // CHECK-NOTES: :[[@LINE-1]]:29: warning: reference parameter 'key' of lazy task 'store::get' is bound to a temporary 'std::basic_string<char>' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the task is awaited here
  // CHECK-NOTES: store_api.h:13:30: note: 'store::get' reads 'key' here, when the task runs
  // CHECK-NOTES: :[[@LINE+3]]:26: note: in the instantiation 'template_caller<std::basic_string<char>>', instantiated here
  co_await pending;
}
template cppcoro::task<> template_caller<std::string>(std::string);

// A generic lambda, in its instantiation.
cppcoro::task<> generic_lambda() {
  auto run = [](auto text) -> cppcoro::task<> {
    auto pending = store::get(decltype(text)("x"));
    // CHECK-NOTES: :[[@LINE-1]]:31: warning: reference parameter 'key' of lazy task 'store::get' is bound to a temporary 'std::basic_string<char>' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+4]]
    // CHECK-NOTES: :[[@LINE+3]]:5: note: the task is awaited here
    // CHECK-NOTES: store_api.h:13:30: note: 'store::get' reads 'key' here, when the task runs
    // CHECK-NOTES: :[[@LINE+3]]:15: note: in the instantiation 'operator()<std::basic_string<char>>', instantiated here
    co_await pending;
  };
  co_await run(std::string("y"));
}

// libcoro style: coro::task, spawned detached on a scheduler.
namespace coro {
struct scheduler {
  bool spawn_detached(coro::task<void> &&task) { return true; }
};
} // namespace coro
coro::task<void> write_line(const std::string &line) {
  co_await coro::thread_pool{}.schedule();
  std::string copy = line;
}
void libcoro_style(coro::scheduler &s) {
  s.spawn_detached(write_line(std::string("spawned")));
  // CHECK-NOTES: :[[@LINE-1]]:31: warning: reference parameter 'line' of lazy task 'write_line' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is spawned by 'coro::scheduler::spawn_detached' and runs after this statement
  // CHECK-NOTES: :65:22: note: 'write_line' reads 'line' here, when the task runs
  // CHECK-FIXES: {{^}}coro::task<void> write_line(std::string line) {{{$}}
}

// Macros: the finding is at the argument, where the macro is expanded.
#define STORE_LATER(var, text) auto var = store::get(std::string(text))
cppcoro::task<> macros() {
  STORE_LATER(pending, "m");
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: reference parameter 'key' of lazy task 'store::get' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'pending' and awaited at line [[@LINE+4]]
  // CHECK-NOTES: :[[@LINE-4]]:54: note: expanded from macro 'STORE_LATER'
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is awaited here
  // CHECK-NOTES: store_api.h:13:30: note: 'store::get' reads 'key' here, when the task runs
  co_await pending;
}
