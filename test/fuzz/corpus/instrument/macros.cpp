#define AWAIT(x) co_await x
#define AWAIT_SUM(x, y) (co_await x + co_await y)
#define RETURN_AWAITED(x) co_return co_await x
task<int> f() { int a = AWAIT(value(AWAIT(value(1)))); int b = AWAIT_SUM(value(a), value(2)); RETURN_AWAITED(value(a + b)); }
