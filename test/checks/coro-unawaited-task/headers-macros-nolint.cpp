// RUN: %check_coro_tidy %s coro-unawaited-task %t -- -header-filter='.*' -- -I%S/Inputs
// RUN: %check_coro_tidy -check-suffix=MAINONLY %s coro-unawaited-task %t -- -header-filter='^$' -- -I%S/Inputs

// Project headers are reported when -header-filter lets them through;
// macros are reported where they are used, with no fix-it inside a macro;
// NOLINT works.
// CHECK-FIXES: {{^}}  KICK();{{$}}
// CHECK-FIXES: {{^}}  PASS(header_job());{{$}}
// CHECK-FIXES: {{^}}  SPAWN_AND_FORGET(header_job);{{$}}

#include "jobs.h"

// clang-tidy orders diagnostics by file path, which depends on the build dir.
// CHECK-MESSAGES-DAG: jobs.h:9:3: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded without being awaited; its body never runs [coro-unawaited-task]

#define KICK() header_job()
#define PASS(expr) expr
#define AWAIT(expr) co_await expr
#define SPAWN_AND_FORGET(fn) \
  do {                       \
    fn();                    \
  } while (0)

cppcoro::task<> macros() {
  KICK();
  // CHECK-MESSAGES-DAG: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // CHECK-MESSAGES-MAINONLY: :[[@LINE-2]]:3: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  PASS(header_job());
  // CHECK-MESSAGES-DAG: :[[@LINE-1]]:8: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // CHECK-MESSAGES-MAINONLY: :[[@LINE-2]]:8: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  SPAWN_AND_FORGET(header_job);
  // CHECK-MESSAGES-DAG: :[[@LINE-1]]:20: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // CHECK-MESSAGES-MAINONLY: :[[@LINE-2]]:20: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // Awaited through a macro: fine.
  AWAIT(header_job());
  co_await PASS(header_job());
  header_caller();
}

cppcoro::task<> suppressed() {
  header_job(); // NOLINT
  header_job(); // NOLINT(coro-unawaited-task)
  // NOLINTNEXTLINE(coro-unawaited-task)
  header_job();
  // NOLINTBEGIN(coro-*)
  header_job();
  auto kept = header_job();
  // NOLINTEND(coro-*)
  header_job(); // NOLINT(bugprone-*): a different check, still reported
  // CHECK-MESSAGES-DAG: :[[@LINE-1]]:3: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // CHECK-MESSAGES-MAINONLY: :[[@LINE-2]]:3: warning: task 'cppcoro::task<int>' returned by 'header_job' is discarded
  // CHECK-FIXES: {{^}}  co_await header_job(); // NOLINT(bugprone-*): a different check, still reported{{$}}
  // CHECK-FIXES-MAINONLY: {{^}}  co_await header_job(); // NOLINT(bugprone-*): a different check, still reported{{$}}
  co_return;
}
