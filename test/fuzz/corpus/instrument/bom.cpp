task<int> f() { co_return co_await value(1); }
