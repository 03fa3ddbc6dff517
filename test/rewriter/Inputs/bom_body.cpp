// The tests put a UTF-8 byte order mark in front of this file.
#include <coro_test/tasks.h>
#include <cstdio>

using cppcoro::task;

task<int> value(int v) { co_return v; }

task<int> twice(int v) {
  int a = co_await value(v);
  co_return a + co_await value(v);
}

int main() {
  auto t = twice(21);
  cppcoro::sync_wait(t);
  std::printf("twice %d, line %d\n", *t.handle.promise().value, __LINE__);
}
