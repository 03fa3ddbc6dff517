// A target for timing `coroscope ps` and `coroscope pstree` from outside:
// COUNT coroutines (default 100,000), instrumented by the plugin, each
// parked on an awaiter that keeps its handle. They are started by FANOUT
// spawner coroutines (default 100), which park too, so the registry holds
// COUNT + FANOUT records with creator edges, on one thread. The program
// prints "ready PID" when all are parked, then waits until the file
// STOP-FILE exists (or, without one, until its standard input closes),
// resumes every parked coroutine so that each ends, and exits 0.
//
//   clang++-19 -std=c++20 -O2 -fplugin=build-llvm19/lib/libcoroscope-instrument.so \
//     bench/many_parked.cpp build-llvm19/runtime/libcoroscope-runtime.so -pthread \
//     -o /tmp/many_parked
//   /tmp/many_parked 100000 /tmp/many_parked.stop &
//   build-llvm19/bin/coroscope ps PID --format json > /dev/null
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::vector<std::coroutine_handle<>> parked_handles;

// Suspends for good: the handle waits in parked_handles until main resumes it.
struct park {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { parked_handles.push_back(h); }
  void await_resume() const noexcept {}
};

// Starts at once; frees itself when it ends.
struct detached {
  struct promise_type {
    detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

detached worker(int index) {
  co_await park{};
  (void)index;
}

detached spawner(int first, int count) {
  for (int i = first; i < first + count; ++i)
    worker(i);
  co_await park{};
}

} // namespace

int main(int argc, char **argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 100000;
  const char *stop_file = argc > 2 ? argv[2] : nullptr;
  const int fanout = 100;
  if (count < fanout || count % fanout != 0) {
    std::fprintf(stderr, "usage: many_parked [COUNT, a multiple of %d] [STOP-FILE]\n", fanout);
    return 2;
  }
  parked_handles.reserve(count + fanout);
  for (int s = 0; s < fanout; ++s)
    spawner(s * (count / fanout), count / fanout);
  std::printf("ready %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  if (stop_file != nullptr) {
    while (::access(stop_file, F_OK) != 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } else {
    char buffer[256];
    while (::read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
    }
  }
  for (std::coroutine_handle<> h : parked_handles)
    h.resume();
  return 0;
}
