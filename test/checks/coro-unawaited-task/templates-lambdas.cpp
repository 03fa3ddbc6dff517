// RUN: %check_coro_tidy %s coro-unawaited-task %t

// Aliases (using, typedef, auto), templates and their instantiations,
// lambdas (coroutine and not, generic, immediately invoked), member
// functions, co_yield and co_return operands.

#include <coro_test/tasks.h>

#include <utility>

using Job = cppcoro::task<int>;
typedef folly::coro::Task<int> Request;
Job make_job() { co_return 1; }
Request make_request() { co_return 2; }

// Aliases: the message names the alias and the class.
cppcoro::task<> aliases() {
  make_job();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'Job' (aka 'cppcoro::task<int>') returned by 'make_job' is discarded without being awaited; its body never runs [coro-unawaited-task]
  // CHECK-FIXES: {{^}}  co_await make_job();{{$}}
  make_request();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'Request' (aka 'folly::coro::Task<int>') returned by 'make_request' is discarded without being awaited; its body never runs
  // A folly task in a cppcoro coroutine is awaitable as it is: fixed.
  // CHECK-FIXES: {{^}}  co_await make_request();{{$}}
  auto job = make_job();
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: variable 'job' holds task 'Job' (aka 'cppcoro::task<int>') returned by 'make_job', which is never awaited, moved or passed on; its body never runs
  co_return;
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'job' goes out of scope here

// A template whose pattern discards a task of a known type: one warning at
// the pattern, with its fix, however many instantiations there are.
template <typename T> cppcoro::task<T> twice(T value) {
  make_job();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'Job' (aka 'cppcoro::task<int>') returned by 'make_job' is discarded
  // CHECK-FIXES: {{^}}  co_await make_job();{{$}}
  co_return value + value;
}
template cppcoro::task<int> twice(int);
template cppcoro::task<long> twice(long);

// A dependent call is a task only in some instantiations: reported there,
// with a note naming the instantiation, and without a fix-it, since the
// same text must compile for every instantiation.
template <typename Factory> cppcoro::task<> run_factory(Factory factory) {
  factory();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by '{{.*}}' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  factory();{{$}}
  co_return;
}
void instantiate() {
  cppcoro::sync_wait(run_factory([] { return 1; }));
  cppcoro::sync_wait(run_factory([]() -> cppcoro::task<int> { co_return 3; }));
  // CHECK-NOTES: :[[@LINE-1]]:22: note: only in the instantiation 'run_factory<(lambda at {{.*}})>'; it is instantiated here
}

// A branch of `if constexpr` without braces: the call is dependent, so only
// the instantiation, where the condition is known, sees the task.
template <typename F> cppcoro::task<> maybe_call(F f) {
  if constexpr (sizeof(F) > 0)
    f();
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: task 'cppcoro::task<int>' returned by 'f' is discarded
  // CHECK-NOTES: :[[@LINE+3]]:{{[0-9]+}}: note: only in the instantiation 'maybe_call<cppcoro::task<int> (*)()>'; it is instantiated here
  co_return;
}
void call_maybe() { cppcoro::sync_wait(maybe_call(&make_job)); }

// A member function of a class template, and a member coroutine.
template <typename T> struct cache {
  cppcoro::task<T> load() { co_return T{}; }
  cppcoro::task<> warm() {
    load();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: task 'cppcoro::task<int>' returned by 'cache::load' is discarded
    // CHECK-NOTES: :[[@LINE+6]]:24: note: only in the instantiation 'cache<int>::warm'; it is instantiated here
    co_await load();
  }
};
void use_cache() {
  cache<int> c;
  cppcoro::sync_wait(c.warm());
  auto warming = c.warm();
  cppcoro::sync_wait(std::move(warming));
}

// Lambdas: a coroutine lambda gets the fix; a plain lambda inside a
// coroutine is not a coroutine, so it gets none.
cppcoro::task<> lambdas() {
  auto coroutine_lambda = []() -> cppcoro::task<> {
    make_job();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: task 'Job' (aka 'cppcoro::task<int>') returned by 'make_job' is discarded
    // CHECK-FIXES: {{^}}    co_await make_job();{{$}}
    co_return;
  };
  auto plain_lambda = [] {
    make_job();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: task 'Job' (aka 'cppcoro::task<int>') returned by 'make_job' is discarded
    // CHECK-FIXES: {{^}}    make_job();{{$}}
  };
  plain_lambda();
  // An immediately invoked coroutine lambda, discarded.
  []() -> cppcoro::task<> { co_return; }();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<void>' returned by '(lambda at {{.*}}:[[@LINE-1]]:3)' is discarded
  // CHECK-FIXES: {{^}}  co_await []() -> cppcoro::task<> { co_return; }();{{$}}
  // Calling a stored coroutine lambda and dropping the task.
  coroutine_lambda();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<void>' returned by '(lambda at {{.*}})' is discarded
  // CHECK-FIXES: {{^}}  co_await coroutine_lambda();{{$}}
  co_await coroutine_lambda();
  // A generic lambda: its instantiation decides.
  auto generic = [](auto make) -> cppcoro::task<> {
    make();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: task 'cppcoro::task<int>' returned by '{{.*}}' is discarded
    // CHECK-NOTES: :[[@LINE+4]]:{{[0-9]+}}: note: only in the instantiation '{{.*}}'; it is instantiated here
    co_return;
  };
  co_await generic([] { return 0; });
  co_await generic(&make_job);
}

// co_yield and co_return operands use the task: not reported.
cppcoro::generator<Job> jobs() {
  co_yield make_job();
  auto job = make_job();
  co_yield std::move(job);
}
cppcoro::task<int> nested() {
  co_return co_await make_job();
}

// Nested coroutine lambdas capture the task: not reported.
cppcoro::task<> captured() {
  auto job = make_job();
  auto inner = [&]() -> cppcoro::task<> {
    auto deeper = [&]() -> cppcoro::task<> { co_await job; };
    co_await deeper();
  };
  co_await inner();
}
