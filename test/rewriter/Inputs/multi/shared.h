// A project header with coroutines, included by two translation units.
#pragma once
#include <coro_test/tasks.h>

inline cppcoro::task<int> shared_value(int v) { co_return v; }

template <typename T> cppcoro::task<T> shared_twice(T v) {
  co_return co_await shared_value(v) * 2;
}

int first();
int second();
