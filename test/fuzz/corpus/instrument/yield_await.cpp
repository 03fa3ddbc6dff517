generator<int> g() { co_yield co_await value(1); co_yield 2; }
