#include "shared.h"

static int result = 0;

static cppcoro::task<void> run_first() { result = co_await shared_twice(1); }

int first() {
  cppcoro::sync_wait(run_first());
  return result;
}
