// The runtime's cost per await, in one process: the same workloads
// uninstrumented, instrumented with tracking on, with tracking and the trace
// on, with the trace in a flight-recorder ring (COROSCOPE_TRACE_WINDOW), and
// instrumented with the runtime off (COROSCOPE=off).
//
//   build-llvm19/bench/runtime_bench --benchmark_min_time=1
#include "../test/runtime/support.hpp"

#include <coroscope/testing.hpp>

#include <mutex>

#include <benchmark/benchmark.h>


#define BENCH_NAMESPACE plain
#define BENCH_CORO() (void)0
#define BENCH_AWAIT(...) co_await __VA_ARGS__
#define BENCH_RETURN(...) co_return __VA_ARGS__
#include "workload.inc"
#undef BENCH_NAMESPACE
#undef BENCH_CORO
#undef BENCH_AWAIT
#undef BENCH_RETURN

#define BENCH_NAMESPACE instrumented
#define BENCH_CORO() COROSCOPE_CORO()
#define BENCH_AWAIT(...) COROSCOPE_AWAIT(__VA_ARGS__)
#define BENCH_RETURN(...) COROSCOPE_RETURN(__VA_ARGS__)
#include "workload.inc"

namespace {

enum class mode { plain, tracking, trace, window, off };

// Each run configures the runtime for its mode; the trace buffer is sized so
// that no event is dropped (a dropped event would be cheaper than a kept one).
// The ring keeps each thread's last 100,000 steps: it wraps, as a flight
// recorder's does.
void configure(mode m) {
  coroscope::detail::config cfg;
  cfg.enabled = m != mode::off;
  cfg.slow_ms = 1e6;
  cfg.hang_ms = 1e6;
  if (m == mode::trace || m == mode::window) {
    cfg.trace_path = "/dev/null";
    cfg.max_trace_events = 200'000'000;
  }
  if (m == mode::window)
    cfg.trace_window_steps = 100'000;
  coroscope::detail::reset_for_testing(cfg);
}

void per_await(benchmark::State &state, std::int64_t awaits) {
  state.counters["per_await"] = benchmark::Counter(
      double(state.iterations()) * double(awaits),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

constexpr int kLoop = 1000;

template <mode M> void BM_ReadyLoop(benchmark::State &state) {
  configure(M);
  for (auto _ : state) {
    auto t = M == mode::plain ? plain::ready_loop(kLoop) : instrumented::ready_loop(kLoop);
    t.start();
    benchmark::DoNotOptimize(t.result());
  }
  per_await(state, kLoop);
}

constexpr int kDepth = 64;

template <mode M> void BM_ChildChain(benchmark::State &state) {
  configure(M);
  for (auto _ : state) {
    auto t = M == mode::plain ? plain::chain(kDepth) : instrumented::chain(kDepth);
    t.start();
    benchmark::DoNotOptimize(t.result());
  }
  per_await(state, kDepth);
}

constexpr int kHops = 200;

template <mode M> void BM_ThreadHops(benchmark::State &state) {
  configure(M);
  coroscope_test::thread_pool pool(2);
  for (auto _ : state) {
    auto t = M == mode::plain ? plain::hop(pool, kHops) : instrumented::hop(pool, kHops);
    t.start();
    while (!t.done())
      std::this_thread::yield();
    benchmark::DoNotOptimize(t.result());
  }
  per_await(state, kHops);
}

// An uncontended std::lock_guard, alone and nested in another (whose chain
// of held classes the runtime validates once and then finds in its cache),
// per acquisition and release: plain, tracked (COROSCOPE_LOCK_GUARD) with
// the runtime on, and tracked with it off.
std::mutex outer_mu, inner_mu;

template <mode M> void BM_LockGuard(benchmark::State &state) {
  configure(M);
  for (auto _ : state)
    for (int i = 0; i < kLoop; ++i) {
      if constexpr (M == mode::plain) {
        std::lock_guard g(inner_mu);
        benchmark::ClobberMemory();
      } else {
        COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, inner_mu, "bench::inner_mu");
        benchmark::ClobberMemory();
      }
    }
  state.counters["per_lock"] = benchmark::Counter(
      double(state.iterations()) * kLoop, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <mode M> void BM_NestedLockGuards(benchmark::State &state) {
  configure(M);
  for (auto _ : state)
    for (int i = 0; i < kLoop; ++i) {
      if constexpr (M == mode::plain) {
        std::lock_guard a(outer_mu);
        std::lock_guard b(inner_mu);
        benchmark::ClobberMemory();
      } else {
        COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, a, outer_mu, "bench::outer_mu");
        COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, b, inner_mu, "bench::inner_mu");
        benchmark::ClobberMemory();
      }
    }
  state.counters["per_lock"] = benchmark::Counter(
      double(state.iterations()) * kLoop * 2,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

} // namespace

BENCHMARK(BM_LockGuard<mode::plain>)->Name("lock_guard/uninstrumented");
BENCHMARK(BM_LockGuard<mode::tracking>)->Name("lock_guard/tracking");
BENCHMARK(BM_LockGuard<mode::off>)->Name("lock_guard/runtime_off");
BENCHMARK(BM_NestedLockGuards<mode::plain>)->Name("nested_lock_guards/uninstrumented");
BENCHMARK(BM_NestedLockGuards<mode::tracking>)->Name("nested_lock_guards/tracking");
BENCHMARK(BM_NestedLockGuards<mode::off>)->Name("nested_lock_guards/runtime_off");
BENCHMARK(BM_ReadyLoop<mode::plain>)->Name("ready_loop/uninstrumented");
BENCHMARK(BM_ReadyLoop<mode::tracking>)->Name("ready_loop/tracking");
BENCHMARK(BM_ReadyLoop<mode::trace>)->Name("ready_loop/tracking+trace")->Iterations(20000);
BENCHMARK(BM_ReadyLoop<mode::window>)->Name("ready_loop/tracking+window");
BENCHMARK(BM_ReadyLoop<mode::off>)->Name("ready_loop/runtime_off");
BENCHMARK(BM_ChildChain<mode::plain>)->Name("child_chain/uninstrumented");
BENCHMARK(BM_ChildChain<mode::tracking>)->Name("child_chain/tracking");
BENCHMARK(BM_ChildChain<mode::trace>)->Name("child_chain/tracking+trace")->Iterations(100000);
BENCHMARK(BM_ChildChain<mode::window>)->Name("child_chain/tracking+window");
BENCHMARK(BM_ChildChain<mode::off>)->Name("child_chain/runtime_off");
BENCHMARK(BM_ThreadHops<mode::plain>)->Name("thread_hops/uninstrumented")->UseRealTime();
BENCHMARK(BM_ThreadHops<mode::tracking>)->Name("thread_hops/tracking")->UseRealTime();
BENCHMARK(BM_ThreadHops<mode::trace>)->Name("thread_hops/tracking+trace")->UseRealTime();
BENCHMARK(BM_ThreadHops<mode::window>)->Name("thread_hops/tracking+window")->UseRealTime();
BENCHMARK(BM_ThreadHops<mode::off>)->Name("thread_hops/runtime_off")->UseRealTime();

BENCHMARK_MAIN();
