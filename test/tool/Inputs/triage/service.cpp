#include "log.h"
#include <coro_test/tasks.h>
#include <chrono>
#include <mutex>
#include <thread>

std::mutex state_mutex;
cppcoro::task<> refresh();

cppcoro::task<> accept_client() {
  applog::write_line("accepted");
  co_await refresh();
}
cppcoro::task<> read_request() {
  applog::write_line("reading");
  co_return;
}
cppcoro::task<> write_reply() {
  applog::write_line("replying");
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  co_return;
}
cppcoro::task<> update_state() {
  std::lock_guard<std::mutex> guard(state_mutex);
  refresh();
  co_await refresh();
}
