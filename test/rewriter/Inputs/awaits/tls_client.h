// A header coroutine that awaits member coroutines defined in one
// translation unit only (libcoro's net/tls/client.hpp shape): every
// translation unit must instrument it the same way.
#pragma once
#include <coro_test/tasks.h>

struct tls_client {
  cppcoro::task<int> shutdown(int grace);        // defined in client.cpp
  cppcoro::task<int> free_session();             // defined in client.cpp
  cppcoro::task<int> close(int grace) {
    int a = co_await shutdown(grace);
    int b = co_await free_session();
    co_return a + b;
  }
};
