// Code whose braces and keywords differ between -DEXTRA and not: each
// translation unit instruments what it sees, and an edit one of them makes
// where the other compiles the text would break the other.
#pragma once
#include <coro_test/tasks.h>

inline cppcoro::task<int> branch_value(int v) { co_return v; }

// One closing brace for two opening ones, one per configuration.
static inline cppcoro::task<int> split_braces(int v)
#ifdef EXTRA
{
  v += co_await branch_value(100);
#else
{
  v += co_await branch_value(10);
#endif
  co_return v;
}

// One operand for two keywords.
static inline cppcoro::task<int> split_keyword(int v) {
  int r =
#ifdef EXTRA
      co_await
#else
      2 * co_await
#endif
      branch_value(v);
  co_return r;
}
