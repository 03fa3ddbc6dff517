struct range { int *begin(); int *end(); };
task<range> r();
task<int> f() { int s = 0; for (int v : co_await r()) s += v; co_return s; }
