// Lazy tasks that are never awaited: made and dropped, made in a template
// and in a lambda, and a generator that is never iterated. Each is destroyed
// at its initial suspend point, before its body ran. Those awaited and the
// eager task are not.
#include <coro_test/tasks.h>

cppcoro::task<int> fetch(int id) { co_return id; }

template <typename T> cppcoro::task<T> echo(T v) { co_return v; }

cppcoro::generator<int> numbers() {
  for (int i = 0;; ++i)
    co_yield i;
}

eager::task started_at_once() { co_return; }

cppcoro::task<int> caller() {
  auto forgotten = fetch(1); // BUG: never awaited
  (void)echo(2.0);           // BUG: never awaited
  auto lambda = []() -> cppcoro::task<int> { co_return 3; };
  (void)lambda();            // BUG: never awaited
  auto unused = numbers();   // never iterated
  started_at_once();
  int v = co_await fetch(4);
  co_return v + co_await echo(5);
}

int main() {
  int v = 0;
  cppcoro::sync_wait([&]() -> cppcoro::task<void> { v = co_await caller(); }());
  return v == 9 ? 0 : 1;
}
