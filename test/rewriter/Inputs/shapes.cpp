// Every shape of coroutine and suspension point the rewriter must handle.
// It prints what it computes and where, so an instrumented build must print
// exactly what the plain build prints.
#include "macros.h"
#include <coro_test/tasks.h>
#include <cstdio>
#include <stdexcept>
#include <sysmacros.h>

using cppcoro::task;

task<int> value(int v) { co_return v; }

task<int> plain(int v) {
  int a = co_await value(v);
  co_return a + 1;
}

task<int> conditions(int v) {
  int sum = 0;
  if (co_await value(v) > 1)
    sum += 1;
  if (int x = co_await value(v); x > 0)
    sum += x;
  while (co_await value(sum) < 10)
    sum += 3;
  for (int i = co_await value(0); i < co_await value(2); i += co_await value(1))
    sum += i;
  switch (co_await value(v)) {
  case 2:
    sum += 100;
    break;
  default:
    break;
  }
  sum += (co_await value(1)) * co_await value(2) + co_await value(co_await value(3));
  co_return co_await value(sum);
}

task<void> effects(int &out) {
  out = co_await value(7);
  if (out > 100)
    co_return;
  out += 1;
}

task<int> early(bool stop) {
  if (stop) co_return -1;
  co_return co_await value(2);
}

struct Account {
  int balance = 10;
  task<int> deposit(int v) {
    balance += co_await value(v);
    co_return balance;
  }
  task<int> withdraw(int v);
};

task<int> Account::withdraw(int v) {
  balance -= co_await value(v);
  co_return balance;
}

template <typename T> task<T> twice(T v) {
  T first = co_await value(v);
  co_return first + co_await value(v);
}

template <typename T> struct Box {
  T held;
  task<T> get() { co_return co_await value(held); }
};

task<int> lambdas() {
  auto plus = [](int a) -> task<int> { co_return co_await value(a) + 1; };
  auto not_a_coroutine = [](int a) { return a * 2; };
  int r = co_await plus(not_a_coroutine(2));
  auto outer = [&](int a) -> task<int> {
    auto inner = [](int b) -> task<int> { co_return co_await value(b); };
    co_return co_await inner(a) + r;
  };
  co_return co_await outer(1);
}

task<int> try_block(int v) try {
  int x = co_await value(v);
  if (x < 0)
    throw std::runtime_error("negative");
  co_return x;
} catch (const std::runtime_error &) {
  co_return 0;
}

task<int> macros(int v) {
  int a = AWAIT(value(v));
  int b = AWAIT(value(a + 1));
  int c = SYS_AWAIT(value(b));
  co_return c;
}

task<int> returns_macro(int v) { RETURN_AWAITED(value(v)); }

#define DEFINE_CONSTANT_TASK(name, v)                                          \
  task<int> name() { co_return v; }
DEFINE_CONSTANT_TASK(forty_two, 42)

cppcoro::generator<int> count_to(int n) {
  for (int i = 1; i <= n; ++i)
    co_yield i;
}

folly::coro::Task<int> folly_style(int v) {
  int a = co_await folly::coro::ReadyAwaitable{v};
  co_return a + co_await folly::coro::ReadyAwaitable{1};
}

int not_a_coroutine(int v) { return v + 1; }

// Not a lambda: g++ 12 rejects co_await on a by-reference capture of a
// move-only task inside a template, instrumented or not.
template <typename T> task<void> store(task<T> &t, T &out) {
  out = co_await t;
}

template <typename T> T run(task<T> t) {
  T result{};
  cppcoro::sync_wait(store(t, result));
  return result;
}

int main() {
  std::printf("plain %d\n", run(plain(1)));
  std::printf("conditions %d\n", run(conditions(2)));
  int out = 0;
  cppcoro::sync_wait(effects(out));
  std::printf("effects %d\n", out);
  std::printf("early %d %d\n", run(early(true)), run(early(false)));
  Account account;
  std::printf("account %d ", run(account.deposit(5)));
  std::printf("%d\n", run(account.withdraw(3)));
  std::printf("twice %d %ld\n", run(twice(2)), run(twice(3L)));
  std::printf("box %d\n", run(Box<int>{6}.get()));
  std::printf("lambdas %d\n", run(lambdas()));
  std::printf("try %d %d\n", run(try_block(4)), run(try_block(-1)));
  std::printf("macros %d %d\n", run(macros(1)), run(returns_macro(9)));
  std::printf("constant %d\n", run(forty_two()));
  int sum = 0;
  for (auto g = count_to(4); g.next();)
    sum += g.value();
  std::printf("generator %d\n", sum);
  std::printf("folly %d\n", folly::coro::blockingWait(folly_style(5)));
  std::printf("plain function %d, line %d\n", not_a_coroutine(1), __LINE__);
}
