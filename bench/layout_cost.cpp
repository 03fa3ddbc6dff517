// What a coroutine and an await cost the runtime, in a form that builds
// against any revision of it: bench/layout_cost.py builds this file once
// against each revision's headers, library and plugin (the runtime before
// and after the published registry layout) and runs the binaries in
// interleaved rounds. `layout_cost --repeat VARIANT N` runs one workload N
// times and nothing else, for counting instructions under valgrind.
//
// Three variants of each workload:
//   uninstrumented  plain C++20 (layout_cost_workload.cpp without the plugin)
//   hand            COROSCOPE_CORO / COROSCOPE_AWAIT / COROSCOPE_RETURN
//   plugin          layout_cost_workload.cpp compiled with -fplugin
// Two workloads:
//   await      a loop of 1000 awaits on an always-ready awaitable;
//              per_await = time / 1000
//   coroutine  a loop of 1000 awaits of a child coroutine that returns at
//              once; per_coroutine = time / 1000 (create, start, end and
//              destroy a coroutine, and the parent's await of it)
//
// The hand variants are registered first: in 118a04b, once a
// plugin-instrumented ramp has called the runtime's creation hook, every
// coroutine's start looks its creation up, whichever way it was
// instrumented.
#include "layout_cost.hpp"

#include <coroscope/testing.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace layout_cost::hand {

using coroscope_test::task;

namespace {

task<int> leaf(int i) {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(i);
}

} // namespace

task<long> ready_loop(int n) {
  COROSCOPE_CORO();
  long sum = 0;
  for (int i = 0; i < n; ++i)
    sum += COROSCOPE_AWAIT(always_ready{});
  COROSCOPE_RETURN(sum);
}

task<long> fan_out(int n) {
  COROSCOPE_CORO();
  long sum = 0;
  for (int i = 0; i < n; ++i)
    sum += COROSCOPE_AWAIT(leaf(i));
  COROSCOPE_RETURN(sum);
}

} // namespace layout_cost::hand

namespace {

constexpr int kCount = 1000;

// Tracking on, no trace, thresholds no step reaches.
void configure() {
  coroscope::detail::config cfg;
  cfg.slow_ms = 1e6;
  cfg.hang_ms = 1e6;
  coroscope::detail::reset_for_testing(cfg);
}

template <coroscope_test::task<long> (*Workload)(int)> long once() {
  auto t = Workload(kCount);
  t.start();
  return t.result();
}

template <coroscope_test::task<long> (*Workload)(int)>
void run(benchmark::State &state, const char *counter) {
  configure();
  for (auto _ : state) {
    auto t = Workload(kCount);
    t.start();
    benchmark::DoNotOptimize(t.result());
  }
  state.counters[counter] =
      benchmark::Counter(double(state.iterations()) * kCount,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

} // namespace

int main(int argc, char **argv) {
  struct variant {
    const char *name, *counter;
    void (*fn)(benchmark::State &, const char *);
    long (*once)();
  };
#define LAYOUT_COST_VARIANT(name, counter, workload) {name, counter, run<workload>, once<workload>}
  const variant variants[] = {
      LAYOUT_COST_VARIANT("await/uninstrumented", "per_await", layout_cost::plain::ready_loop),
      LAYOUT_COST_VARIANT("await/hand", "per_await", layout_cost::hand::ready_loop),
      LAYOUT_COST_VARIANT("coroutine/uninstrumented", "per_coroutine",
                          layout_cost::plain::fan_out),
      LAYOUT_COST_VARIANT("coroutine/hand", "per_coroutine", layout_cost::hand::fan_out),
      LAYOUT_COST_VARIANT("await/plugin", "per_await", layout_cost::plugin::ready_loop),
      LAYOUT_COST_VARIANT("coroutine/plugin", "per_coroutine", layout_cost::plugin::fan_out),
  };
#undef LAYOUT_COST_VARIANT
  // `layout_cost --repeat VARIANT N`: the workload N times and nothing else,
  // for counting instructions under valgrind (two counts, N1 and N2, and
  // their difference per 1000 (N2 - N1) leave out start-up and exit).
  if (argc == 4 && std::string(argv[1]) == "--repeat") {
    for (const variant &v : variants)
      if (v.name == std::string(argv[2])) {
        configure();
        long sum = 0;
        for (long i = 0, n = std::stol(argv[3]); i < n; ++i)
          sum += v.once();
        benchmark::DoNotOptimize(sum);
        return 0;
      }
    return 2;
  }
  // The tracking object's size: it lives in every instrumented frame.
  benchmark::AddCustomContext("coroscope_frame_bytes", std::to_string(sizeof(coroscope::frame)));
  for (const variant &v : variants)
    benchmark::RegisterBenchmark(v.name, v.fn, v.counter);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
