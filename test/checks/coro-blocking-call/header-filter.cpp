// RUN: %check_coro_tidy %s coro-blocking-call %t -- -header-filter='.*' -- -I%S/Inputs
// RUN: %check_coro_tidy -check-suffix=MAINONLY %s coro-blocking-call %t -- -header-filter='^$' -- -I%S/Inputs

// Coroutines in project headers are reported when -header-filter lets them
// through, as for every clang-tidy check; system headers never are.
// clang-tidy 21 and later default to all headers, so the main-file-only run
// says so explicitly.

#include "handlers.h"

#include <unistd.h>

// clang-tidy orders diagnostics by file path, which depends on the build dir.
// CHECK-MESSAGES-DAG: handlers.h:7:3: warning: 'sleep' blocks the thread while coroutine 'header_handler' runs

cppcoro::task<> main_file_handler() {
  ::usleep(1);
  // CHECK-MESSAGES-DAG: :[[@LINE-1]]:3: warning: 'usleep' blocks the thread while coroutine 'main_file_handler' runs
  // CHECK-MESSAGES-MAINONLY: :[[@LINE-2]]:3: warning: 'usleep' blocks the thread while coroutine 'main_file_handler' runs
  co_await header_handler();
  co_return;
}
