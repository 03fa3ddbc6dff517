#define CALL(f, x) f(x)
task<int> f() { co_return CALL(co_await value, 1) + CALL(value, co_await value(2)).await_ready(); }
