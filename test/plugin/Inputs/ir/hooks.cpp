#include "coro_test/tasks.h"
#include <library_task.h>
#include <coroutine>

cppcoro::task<int> child(int v) { co_return v + 1; }

cppcoro::task<int> parent() {
  int a = co_await child(1);
  co_await std::suspend_always{};
  co_return a + co_await library_value(2);
}

cppcoro::generator<int> numbers(int n) {
  for (int i = 0; i < n; ++i)
    co_yield i;
  co_yield n;
}

int plain(int v) { return v; }
