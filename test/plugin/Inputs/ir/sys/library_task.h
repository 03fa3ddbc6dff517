// A library's coroutine, in a system header: never instrumented.
#pragma once
#include "coro_test/tasks.h"
inline cppcoro::task<int> library_value(int v) { co_return v; }
