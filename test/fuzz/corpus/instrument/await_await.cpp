task<ready> w() { co_return ready{2}; }
task<int> f() { co_return co_await co_await w(); }
