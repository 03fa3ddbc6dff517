task<int> f(int v) try { co_return co_await value(v); } catch (...) { co_return 0; }
