struct P { int a, b; };
generator<P> g() { co_yield {1, 2}; co_yield P{co_await value(1), 2}; }
