#define AWAIT(x) co_await x
#define DEFINE(name) task<int> name() { co_return AWAIT(value(1)); }
DEFINE(f)
task<int> g() { co_return AWAIT(value(2)); }
