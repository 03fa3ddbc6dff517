// A coroutine body opened and never closed.
#include <coro_test/tasks.h>
cppcoro::task<int> f() {/*coroscope:*/COROSCOPE_I_BODY("f.cpp", "f", 3, 20) COROSCOPE_TRY {/*:coroscope*/ co_return 1; }
