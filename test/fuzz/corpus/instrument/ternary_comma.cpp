task<int> f(int i) { co_return i ? (co_await value(1), co_await value(2)) : ((co_await value(3))); }
