#include <coro_test/tasks.h>
#include <chrono>
#include <thread>

cppcoro::task<> nap() {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  co_return;
}
