#include "coro_test/tasks.h"

#include <vector>

using cppcoro::task;

task<int> leaf(int x) { co_return x; }
task<int> wrap(task<int> t) { co_return co_await std::move(t); }
int plain(int x) { return x; }

#define MAKE_LEAF(x) leaf(x)

template <typename T> task<T> generic(T value) {
  auto fixed = leaf(1);
  auto depends = generic(value - 1);
  co_return value + co_await std::move(fixed);
}

task<int> uses() {
  std::vector<task<int>> later;
  later.push_back(leaf(1));
  auto nested = wrap(leaf(2));
  auto from_macro = MAKE_LEAF(3);
  int sum = plain(4) + co_await leaf(5);
  sum += co_await wrap(leaf(6));
  sum += co_await std::move(nested);
  sum += co_await std::move(from_macro);
  for (auto &t : later)
    sum += co_await std::move(t);
  co_return sum;
}
