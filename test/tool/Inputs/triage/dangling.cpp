// Two calls that bind the same parameter to a temporary: one root cause.
#include <coro_test/tasks.h>

#include <string>

cppcoro::task<int> lookup(const std::string &key) { co_return key.size(); }

cppcoro::task<> twice() {
  auto a = lookup(std::string("a"));
  auto b = lookup(std::string("b"));
  co_await a;
  co_await b;
}
