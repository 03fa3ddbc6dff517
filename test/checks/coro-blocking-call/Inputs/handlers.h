// A project header with a coroutine of its own.
#pragma once
#include <coro_test/tasks.h>
#include <unistd.h>

inline cppcoro::task<> header_handler() {
  ::sleep(1);
  co_return;
}
