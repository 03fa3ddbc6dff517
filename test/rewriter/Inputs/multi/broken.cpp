#include <coro_test/tasks.h>
cppcoro::task<int> broken() { co_return undeclared_name; }
