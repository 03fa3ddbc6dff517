// A project header whose inline function drops a task. (No coroutine here:
// the test runs with -fix, and a fix-it would rewrite this shared file.)
#pragma once
#include <coro_test/tasks.h>

inline cppcoro::task<int> header_job() { co_return 1; }

inline void header_caller() {
  header_job();
}
