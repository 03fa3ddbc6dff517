// Plain C++20 coroutines for bench/layout_cost.cpp. Compiled as it is with
// -DLAYOUT_COST_NS=plain (the uninstrumented baseline), and with
// -DLAYOUT_COST_NS=plugin and -fplugin=libcoroscope-instrument.so, which
// instruments it as it instruments a user's code: hooks per await, the body's
// start and end, a mark on each call that creates a coroutine, and (since
// the published registry layout) a hook in each ramp.
#include "layout_cost.hpp"

namespace layout_cost::LAYOUT_COST_NS {

using coroscope_test::task;

namespace {

// Created, started and ended once per await of fan_out.
task<int> leaf(int i) { co_return i; }

} // namespace

// n awaits that never suspend: the per-await hooks and nothing else.
task<long> ready_loop(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i)
    sum += co_await always_ready{};
  co_return sum;
}

// n child coroutines, each created, awaited (started by symmetric transfer)
// and ended: a coroutine's whole life, plus the await of it.
task<long> fan_out(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i)
    sum += co_await leaf(i);
  co_return sum;
}

} // namespace layout_cost::LAYOUT_COST_NS
