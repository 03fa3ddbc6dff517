// The trace's size in each format for one recorded run: about a million
// steps on a 4-thread pool (each coroutine hops threads and awaits a child
// that hops again), written once as Chrome JSON and once as Perfetto
// protobuf from the same buffers.
//
//   build-llvm19/bench/trace_size /tmp/trace-size
#include "../test/runtime/support.hpp"

#include <coroscope/testing.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>

namespace {

using coroscope_test::fire_and_forget;
using coroscope_test::task;
using coroscope_test::thread_pool;

task<int> child(thread_pool &pool, int v) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  COROSCOPE_RETURN(v + 1);
}

fire_and_forget root(thread_pool &pool, std::latch &done, int i) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  (void)COROSCOPE_AWAIT(child(pool, i));
  done.count_down();
  COROSCOPE_RETURN();
}

constexpr int kCoroutines = 200'000; // 5 steps each

} // namespace

int main(int argc, char **argv) {
  namespace fs = std::filesystem;
  fs::path dir = argc > 1 ? argv[1] : fs::temp_directory_path() / "coroscope-trace-size";
  fs::create_directories(dir);
  coroscope::detail::config cfg;
  cfg.slow_ms = cfg.hang_ms = 1e6;
  cfg.trace_path = (dir / "at-exit.pftrace").string();
  cfg.max_trace_events = 2'000'000;
  coroscope::detail::reset_for_testing(cfg);
  {
    std::latch done(kCoroutines);
    thread_pool pool(4);
    for (int i = 0; i < kCoroutines; ++i)
      root(pool, done, i);
    done.wait();
  }
  std::printf("%d coroutines, %d steps on 5 threads\n", kCoroutines, 5 * kCoroutines);
  for (const char *name : {"trace.json", "trace.pftrace"}) {
    fs::path path = dir / name;
    auto start = std::chrono::steady_clock::now();
    if (!coroscope::write_trace(path.string()))
      return 1;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto bytes = fs::file_size(path);
    std::printf("%-14s %12ju bytes  %6.1f bytes/step  written in %.2f s\n", name,
                static_cast<std::uintmax_t>(bytes), double(bytes) / (5.0 * kCoroutines),
                seconds);
  }
  // Nothing more at exit.
  cfg.trace_path.clear();
  coroscope::detail::reset_for_testing(cfg);
  return 0;
}
