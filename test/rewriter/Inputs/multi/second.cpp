#include "shared.h"
#include <cstdio>

static int result = 0;

static cppcoro::task<void> run_second() { result = co_await shared_twice(20); }

int second() {
  cppcoro::sync_wait(run_second());
  return result;
}

int main() { std::printf("%d %d\n", first(), second()); }
