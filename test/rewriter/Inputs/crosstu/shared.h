// A header that two translation units see differently.
#pragma once
#include <coro_test/tasks.h>

#define AWAIT_SHARED(x) co_await x

inline cppcoro::task<int> shared_value(int v) { co_return v; }

// With EXTRA the body has one more site, so the two translation units would
// number its sites differently: it is left alone. Static, since the two
// definitions differ.
static inline cppcoro::task<int> shared_sum(int v) {
  int a = AWAIT_SHARED(shared_value(v));
#ifdef EXTRA
  a += co_await shared_value(100);
#endif
  co_return a + co_await shared_value(v);
}

// The same sites whatever the translation unit: instrumented once.
inline cppcoro::task<int> shared_twice(int v) {
  co_return co_await shared_value(v) + co_await shared_value(v);
}

template <typename T> T run(cppcoro::task<T> t) {
  cppcoro::sync_wait(t);
  return *t.handle.promise().value;
}
