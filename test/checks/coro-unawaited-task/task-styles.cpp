// RUN: %check_coro_tidy %s coro-unawaited-task %t

// What a task is, decided structurally: the task styles of cppcoro, folly,
// libcoro and an eager type; awaitable through member or free
// operator co_await; promise types nested or from std::coroutine_traits.
// Generators, plain awaiters and unawaitable coroutine types are not tasks.

#include <coro_test/tasks.h>

#include <coroutine>
#include <exception>
#include <utility>

cppcoro::task<int> compute() { co_return 42; }
cppcoro::task<> flush() { co_return; }
folly::coro::Task<int> fetch() { co_return 7; }
coro::task<> drain() { co_return; }
eager::task start_upload() { co_return; }
eager::fire_and_forget log_event() { co_return; }
cppcoro::generator<int> numbers() { co_yield 1; }

// cppcoro style: a lazy task is discarded, in a coroutine and outside one.
cppcoro::task<> caller() {
  compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded without being awaited; its body never runs [coro-unawaited-task]
  // CHECK-FIXES: {{^}}  co_await compute();{{$}}
  flush(), compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<void>' returned by 'flush' is discarded
  // CHECK-MESSAGES: :[[@LINE-2]]:12: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  // CHECK-FIXES: {{^}}  co_await flush(), co_await compute();{{$}}
  (void)compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: task 'cppcoro::task<int>' returned by 'compute' is cast to void without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  (void)co_await compute();{{$}}
  static_cast<void>(flush());
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: task 'cppcoro::task<void>' returned by 'flush' is cast to void
  // CHECK-FIXES: {{^}}  static_cast<void>(co_await flush());{{$}}
  for (int i = 0; i < 3; flush(), ++i)
    // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: task 'cppcoro::task<void>' returned by 'flush' is discarded
    // CHECK-FIXES: {{^}}  for (int i = 0; i < 3; co_await flush(), ++i){{$}}
    if (i == 1)
      compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  // CHECK-FIXES: {{^}}      co_await compute();{{$}}

  // Awaited, returned or handed on: not reported.
  co_await compute();
  int value = co_await compute();
  (void)value;
  co_await flush();
  co_return;
}

// Outside a coroutine a fix-it would change the function's type: none.
void plain_caller() {
  compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  compute();{{$}}
}

// Returning a task from a normal function, or running it: not reported.
cppcoro::task<int> forward() { return compute(); }
void run_it() { cppcoro::sync_wait(compute()); }

// folly style: the promise's await_transform takes only folly awaitables.
folly::coro::Task<int> folly_caller() {
  fetch();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'folly::coro::Task<int>' returned by 'fetch' is discarded without being awaited; its body never runs
  // A folly coroutine awaits folly tasks (this TU does so below), so the fix
  // is certain.
  // CHECK-FIXES: {{^}}  co_await fetch();{{$}}
  int got = co_await fetch();
  co_return got;
}

// A cppcoro task in a folly coroutine would not compile with co_await: the
// promise's await_transform is constrained to folly awaitables. Reported,
// with no fix-it.
folly::coro::Task<int> mixed() {
  compute();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'compute' is discarded
  // CHECK-FIXES: {{^}}  compute();{{$}}
  co_return co_await folly::coro::ReadyAwaitable{1};
}

// libcoro style: an alias template of a task, and a thread pool whose
// schedule() is a plain awaiter, not a task: dropped, it is reported as an
// awaitable (discarded-awaiters.cpp).
coro::task<> libcoro_caller(coro::thread_pool &pool) {
  pool.schedule();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'coro::thread_pool::schedule_operation' returned by 'coro::thread_pool::schedule' is discarded
  // CHECK-FIXES: {{^}}  co_await pool.schedule();{{$}}
  drain();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'cppcoro::task<void>' returned by 'drain' is discarded
  // CHECK-FIXES: {{^}}  co_await drain();{{$}}
  co_await pool.schedule();
  co_await drain();
}

// An eager task already runs: dropping it loses its result and exceptions;
// a cast to void is the deliberate fire-and-forget.
cppcoro::task<> eager_caller() {
  start_upload();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'eager::task' returned by 'start_upload' is discarded without being awaited; it runs detached; its result and exceptions are lost
  // CHECK-FIXES: {{^}}  co_await start_upload();{{$}}
  (void)start_upload();
  co_await start_upload();
  // Cannot be awaited at all, so it is not a task.
  log_event();
  // A generator is not a task.
  numbers();
  co_return;
}

// Awaitable through a member operator co_await, the real cppcoro's way.
namespace member_style {
class lazy {
public:
  struct promise_type {
    lazy get_return_object() {
      return lazy{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  explicit lazy(std::coroutine_handle<promise_type> h) : handle(h) {}
  auto operator co_await() && noexcept {
    struct awaiter {
      std::coroutine_handle<promise_type> handle;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<>) {
        return handle;
      }
      void await_resume() {}
    };
    return awaiter{handle};
  }
  std::coroutine_handle<promise_type> handle;
};
lazy make() { co_return; }
lazy user() {
  make();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'member_style::lazy' returned by 'member_style::make' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  co_await make();{{$}}
  co_await make();
}
} // namespace member_style

// Awaitable through a free operator co_await found by argument-dependent
// lookup, and started by an awaiter of its own whose await_ready is
// constantly false: lazy.
namespace free_style {
struct start_later {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};
struct job {
  struct promise_type {
    job get_return_object() { return {}; }
    start_later initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};
std::suspend_never operator co_await(job) { return {}; }
job work() { co_return; }
job user() {
  work();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'free_style::job' returned by 'free_style::work' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  co_await work();{{$}}
  co_await work();
}
} // namespace free_style

// A promise type from a std::coroutine_traits specialization, with no
// nested promise_type.
namespace traits_style {
struct op {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};
struct op_promise {
  op get_return_object() { return {}; }
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_always final_suspend() noexcept { return {}; }
  void return_void() {}
  void unhandled_exception() { std::terminate(); }
};
} // namespace traits_style
template <typename... Args>
struct std::coroutine_traits<traits_style::op, Args...> {
  using promise_type = traits_style::op_promise;
};
namespace traits_style {
op step(int) { co_return; }
op user() {
  step(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'traits_style::op' returned by 'traits_style::step' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  co_await step(1);{{$}}
  co_await step(2);
}
} // namespace traits_style

// An awaiter with no promise type is not a task (dropped, it is reported as
// an awaitable), and neither is a non-awaitable coroutine type nor a type
// that only looks like a task.
struct timer_awaiter {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};
timer_awaiter sleep_for_a_bit() { return {}; }
cppcoro::task<> not_tasks() {
  sleep_for_a_bit();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: awaitable 'timer_awaiter' returned by 'sleep_for_a_bit' is discarded without being awaited
  // CHECK-FIXES: {{^}}  co_await sleep_for_a_bit();{{$}}
  co_await sleep_for_a_bit();
}

// A task returned by reference is not created by the call.
cppcoro::task<> &current_task();
void reference_return() { current_task(); }

// Unevaluated operands create nothing.
void unevaluated() {
  using T = decltype(compute());
  (void)sizeof(compute());
  (void)noexcept(compute());
}
