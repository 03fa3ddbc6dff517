// A target that creates and destroys coroutines as fast as it can on two
// threads (test/tool/ps-churn.test reads it from outside meanwhile). Each
// coroutine names itself after its id, parks once, and ends when resumed.
// It runs until the file argv[1] exists, then prints how many it made.
#include "coro_test/tasks.h"

#include <coroscope/coroscope.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using eager::fire_and_forget;


struct parked {
  std::vector<std::coroutine_handle<>> *queue;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { queue->push_back(h); }
  void await_resume() const noexcept {}
};

std::atomic<bool> stopping{false};
std::atomic<unsigned long long> made{0};

fire_and_forget churn_one(std::vector<std::coroutine_handle<>> &queue) {
  if (coroscope::frame *self = coroscope::current())
    self->set_name("task-" + std::to_string(self->id()));
  co_await parked{&queue};
  made.fetch_add(1, std::memory_order_relaxed);
}

void work(bool announce) {
  std::vector<std::coroutine_handle<>> queue;
  queue.reserve(1000);
  for (int round = 0; !stopping.load(std::memory_order_relaxed); ++round) {
    for (int i = 0; i < 1000; ++i)
      churn_one(queue);
    for (auto h : queue)
      h.resume();
    queue.clear();
    if (announce && round == 10) {
      std::printf("ready\n");
      std::fflush(stdout);
    }
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: churn STOP-FILE\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  std::thread other(work, false);
  std::thread watcher([&] {
    while (!std::filesystem::exists(argv[1]))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stopping = true;
  });
  work(true);
  other.join();
  watcher.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("made %llu coroutines (%.0f a second)\n", made.load(), made.load() / seconds);
  return 0;
}
