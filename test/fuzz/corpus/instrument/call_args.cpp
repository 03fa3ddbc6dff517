int plus(int a, int b) { return a + b; }
task<int> f() { co_return plus(co_await value(1), (co_await value(2))) + co_await value(co_await value(3)); }
