// RUN: %check_coro_tidy %s coro-unawaited-task %t
// RUN: %check_coro_tidy -check-suffix=CUSTOM %s coro-unawaited-task %t -- \
// RUN:   -config="{CheckOptions: { \
// RUN:     coro-unawaited-task.TaskTypes: 'net::pending_op;Deferred.*', \
// RUN:     coro-unawaited-task.IgnoredTypes: 'folly::coro::Task;LegacyJob', \
// RUN:     coro-unawaited-task.AllowVoidCastForLazy: true}}"
// RUN: %check_coro_tidy -check-suffix=NOEAGER %s coro-unawaited-task %t -- \
// RUN:   -config="{CheckOptions: {coro-unawaited-task.ReportEagerDiscard: false}}"

// TaskTypes adds types the structural test cannot see (qualified,
// unqualified or regex names of the class or of an alias it is spelled
// through); IgnoredTypes removes tasks; ReportEagerDiscard=false silences
// eager tasks; AllowVoidCastForLazy=true accepts `(void)` for lazy ones too.
// A configured type with no visible promise counts as eager: it is already
// running somewhere.

#include <coro_test/tasks.h>

#include <coroutine>

namespace net {
// A handle to an operation started elsewhere: awaitable, but no coroutine
// returns it, so it is not a task unless configured.
struct pending_op {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};
pending_op start_write();
} // namespace net

// A coroutine type whose awaiting goes through a generic await_transform
// elsewhere: only TaskTypes can make it a task.
struct DeferredCall {
  struct promise_type {
    DeferredCall get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
DeferredCall defer() { co_return; }

using LegacyJob = cppcoro::task<int>;
LegacyJob legacy() { co_return 1; }
cppcoro::task<int> compute() { co_return 2; }
folly::coro::Task<int> fetch() { co_return 3; }
eager::task start_upload() { co_return; }

void caller() {
  net::start_write();
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:3: warning: task 'net::pending_op' returned by 'net::start_write' is discarded without being awaited; it runs detached; its result and exceptions are lost [coro-unawaited-task]
  defer();
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-1]]:3: warning: task 'DeferredCall' returned by 'defer' is discarded without being awaited; its body never runs
  legacy();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'LegacyJob' (aka 'cppcoro::task<int>') returned by 'legacy' is discarded
  // CHECK-MESSAGES-NOEAGER: :[[@LINE-2]]:3: warning: task 'LegacyJob' (aka 'cppcoro::task<int>') returned by 'legacy' is discarded
  compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  // CHECK-MESSAGES-NOEAGER: :[[@LINE-3]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  (void)compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: task 'cppcoro::task<int>' returned by 'compute' is cast to void
  // CHECK-MESSAGES-NOEAGER: :[[@LINE-2]]:9: warning: task 'cppcoro::task<int>' returned by 'compute' is cast to void
  fetch();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'folly::coro::Task<int>' returned by 'fetch' is discarded
  // CHECK-MESSAGES-NOEAGER: :[[@LINE-2]]:3: warning: task 'folly::coro::Task<int>' returned by 'fetch' is discarded
  start_upload();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'eager::task' returned by 'start_upload' is discarded without being awaited; it runs detached
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:3: warning: task 'eager::task' returned by 'start_upload' is discarded without being awaited; it runs detached
  auto upload = start_upload();
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: variable 'upload' holds task 'eager::task' returned by 'start_upload', which is never awaited
  // CHECK-MESSAGES-CUSTOM: :[[@LINE-2]]:8: warning: variable 'upload' holds task 'eager::task' returned by 'start_upload', which is never awaited
}
