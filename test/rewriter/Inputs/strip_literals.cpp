// Marker text that is the user's, not instrumentation: in string literals,
// a raw string, a character array and ordinary comments. Stripping leaves it
// all alone. /*coroscope:*/ in this comment is not a marker either.
#include <coro_test/tasks.h>
#include <cstdio>

using cppcoro::task;

/* a block comment that ends in a marker's text /*:coroscope*/
task<const char *> text(int which) {
  // /*coroscope:*/ a line comment /*:coroscope*/
  if (which == 0)
    co_return "keep /*coroscope:*/ X /*:coroscope*/ end";
  if (which == 1)
    co_return "half a marker /*:coroscope*/";
  if (which == 2)
    co_return R"(raw /*coroscope:*/ string)";
  static const char chars[] = {'/', '*', ':', 'c', 'o', 'r', 'o', '*', '/', 0};
  co_return chars;
}

task<int> print(int which) {
  const char *t = co_await text(which);
  std::printf("%d: %s\n", which, t);
  co_return 0;
}

int main() {
  for (int which = 0; which < 4; ++which) {
    auto t = print(which);
    cppcoro::sync_wait(t);
  }
}
