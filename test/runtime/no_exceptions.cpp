// Built with -fno-exceptions: the header, the macros and a task type work.
// Exits non-zero when the runtime saw something other than it should.
#include "support.hpp"

#include <coroscope/testing.hpp>

#include <cstdio>

namespace {
coroscope_test::task<int> add_one(int v) {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    COROSCOPE_RETURN(v + 1);
  }
  COROSCOPE_CATCH
}
} // namespace

int main() {
  auto t = add_one(41);
  t.start();
  auto r = coroscope::detail::make_report();
  for (const auto &f : r.functions)
    if (f.body.function == "add_one") {
      std::printf("add_one: started=%llu finished=%llu result=%d\n",
                  (unsigned long long)f.started, (unsigned long long)f.finished, t.result());
      return f.finished == 1 && t.result() == 42 ? 0 : 1;
    }
  std::printf("add_one: not tracked\n");
  return 1;
}
