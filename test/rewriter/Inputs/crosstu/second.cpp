// Built without EXTRA. Its coroutine written in a macro is not instrumented,
// so AWAIT_SHARED, which it expands, must not be either.
#include "shared.h"
#include "branches.h"
#include <cstdio>

#define DEFINE_TASK(name, v)                                                   \
  cppcoro::task<int> name() { co_return AWAIT_SHARED(shared_value(v)); }
DEFINE_TASK(from_macro, 7)

int first();

int main() {
  std::printf("first %d second %d %d %d %d\n", first(), run(shared_sum(1)),
              run(from_macro()), run(split_braces(1)), run(split_keyword(1)));
}
