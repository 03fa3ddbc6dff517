task<int> f() { int a[] = {co_await value(1), co_await value(2)}; auto [x, y] = a; co_return x + y; }
