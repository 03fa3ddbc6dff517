#pragma once
#include <coro_test/tasks.h>
inline cppcoro::task<int> from_header(int v) { co_return v + 1; }
