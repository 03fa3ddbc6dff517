// The workloads bench/engine_cost.py times: this one file compiled plain,
// with the plugin's source engine and with its IR engine. Prints one line
// per workload: its name and nanoseconds per operation (the fastest of five
// timings of at least 0.1 s each). usage: engine_cost [N] [WORKLOAD]; with a
// workload's name it runs that one alone (for a profiler).
#include "coro_test/tasks.h"

#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace {

struct always_ready {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  int await_resume() const noexcept { return 1; }
};

// An await whose awaiter is ready: no suspension.
cppcoro::task<long> ready_loop(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i)
    sum += co_await always_ready{};
  co_return sum;
}

// A child task per level, started and ended by its parent's await.
cppcoro::task<int> chain(int depth) {
  if (depth == 0)
    co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

cppcoro::generator<int> counter(int n) {
  for (int i = 0; i < n; ++i)
    co_yield i;
}

// A coroutine that suspends for good at each await; the benchmark resumes
// it by hand: one real suspension and one resumption per operation.
struct manual {
  struct promise_type {
    manual get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

manual parked_forever() {
  for (;;)
    co_await std::suspend_always{};
}

const char *only = nullptr; // a workload's name: run that one alone

template <typename Work> void measure(const char *name, long ops, Work work) {
  if (only != nullptr && std::strcmp(only, name) != 0)
    return;
  using clock = std::chrono::steady_clock;
  double best = 1e300;
  for (int timing = 0; timing < 5; ++timing) {
    long rounds = 0;
    auto start = clock::now();
    double elapsed = 0;
    do {
      work();
      ++rounds;
      elapsed = std::chrono::duration<double, std::nano>(clock::now() - start)
                    .count();
    } while (elapsed < 1e8);
    best = std::min(best, elapsed / double(rounds * ops));
  }
  std::printf("%s %.3f\n", name, best);
}

volatile long sink;

} // namespace

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (argc > 2)
    only = argv[2];
#if defined(__x86_64__)
  // The floor under any timed suspension: the runtime reads this clock once
  // at the suspension and once at the resumption.
  measure("clock_read", n, [&] {
    unsigned long long sum = 0;
    for (int i = 0; i < n; ++i)
      sum += __rdtsc();
    sink = static_cast<long>(sum);
  });
#endif
  measure("ready_await", n, [&] {
    auto t = ready_loop(n);
    cppcoro::sync_wait(t);
    sink = sink + 1;
  });
  measure("suspend_resume", n, [&] {
    manual m = parked_forever();
    for (int i = 0; i < n; ++i)
      m.handle.resume();
    m.handle.destroy();
  });
  measure("child_await", 64, [&] {
    auto t = chain(64);
    cppcoro::sync_wait(t);
  });
  measure("generator_yield", n, [&] {
    long sum = 0;
    auto g = counter(n);
    while (g.next())
      sum += g.value();
    sink = sum;
  });
}
