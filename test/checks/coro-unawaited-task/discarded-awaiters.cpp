// RUN: %check_coro_tidy %s coro-unawaited-task %t
// RUN: %check_coro_tidy -check-suffix=IGNORED %s coro-unawaited-task %t -- \
// RUN:   -config="{CheckOptions: {coro-unawaited-task.IgnoredTypes: 'exec::resume_on_awaitable;coro::thread_pool::schedule_operation;folly::coro::ReadyAwaitable'}}"

// A plain awaiter created and dropped inside a coroutine does nothing: the
// code after `resume_on(executor);` (concurrencpp's example 4) runs where
// the coroutine already was. Types listed in IgnoredTypes are exempt: with
// all but exec::operator_awaitable listed, only that one is reported.

#include <coro_test/tasks.h>

#include <coroutine>

namespace exec {
struct executor {};

template <typename Executor> struct resume_on_awaitable {
  Executor &target;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  void await_resume() const noexcept {}
};
template <typename Executor>
resume_on_awaitable<Executor> resume_on(Executor &target) {
  return {target};
}

// Awaitable through operator co_await.
struct operator_awaitable {
  std::suspend_always operator co_await() const { return {}; }
};
operator_awaitable yield_now();
} // namespace exec

void write_files();

cppcoro::task<> process(exec::executor &background) {
  exec::resume_on(background);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'exec::resume_on_awaitable<exec::executor>' returned by 'exec::resume_on' is discarded without being awaited; it does nothing unless it is co_awaited [coro-unawaited-task]
  // CHECK-FIXES: {{^}}  co_await exec::resume_on(background);
  write_files();
  exec::yield_now();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'exec::operator_awaitable' returned by 'exec::yield_now' is discarded
  // CHECK-MESSAGES-IGNORED: :[[@LINE-2]]:3: warning: awaitable 'exec::operator_awaitable' returned by 'exec::yield_now' is discarded
  // CHECK-FIXES: {{^}}  co_await exec::yield_now();
  // CHECK-FIXES-IGNORED: {{^}}  co_await exec::yield_now();
  co_await exec::resume_on(background);
}

coro::task<> hop(coro::thread_pool &pool) {
  pool.schedule();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'coro::thread_pool::schedule_operation' returned by 'coro::thread_pool::schedule' is discarded without being awaited
  // CHECK-FIXES: {{^}}  co_await pool.schedule();
  (void)pool.schedule();
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: awaitable 'coro::thread_pool::schedule_operation' returned by 'coro::thread_pool::schedule' is cast to void without being awaited
  co_return;
}

// folly's await_transform is a constrained template: the declarations do
// not show that it takes this awaiter, so there is no fix-it.
folly::coro::ReadyAwaitable make_ready();
folly::coro::Task<int> folly_discard() {
  make_ready();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'folly::coro::ReadyAwaitable' returned by 'make_ready' is discarded
  // CHECK-FIXES: {{^}}  make_ready();
  co_return 0;
}

// Not reported: outside a coroutine an awaiter cannot be awaited, and one
// that is awaited, stored or passed on is used.
void plain_function(exec::executor &background) {
  exec::resume_on(background);
}
void take(exec::resume_on_awaitable<exec::executor>);
cppcoro::task<> used(exec::executor &background) {
  auto awaiter = exec::resume_on(background);
  co_await awaiter;
  take(exec::resume_on(background));
  co_await exec::resume_on(background);
}

cppcoro::task<> ignored(exec::executor &background) {
  exec::resume_on(background);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'exec::resume_on_awaitable<exec::executor>' returned by 'exec::resume_on' is discarded
  // CHECK-FIXES: {{^}}  co_await exec::resume_on(background);
  co_await exec::resume_on(background);
}
