task<int> f() { int a = 12 /co_await value(3); int b = 1 + /*c*/co_await value(2); co_return a/b; }
