// The workloads of bench/layout_cost.cpp that the instrumentation plugin
// instruments: layout_cost_workload.cpp, compiled twice, once as it is
// (namespace plain) and once with -fplugin (namespace plugin).
#pragma once

#include "../test/runtime/support.hpp"

namespace layout_cost {

// The awaitable both workloads await: ready at once, so an await costs only
// its hooks.
struct always_ready {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  int await_resume() const noexcept { return 1; }
};
namespace plain {
coroscope_test::task<long> ready_loop(int n);
coroscope_test::task<long> fan_out(int n);
} // namespace plain
namespace plugin {
coroscope_test::task<long> ready_loop(int n);
coroscope_test::task<long> fan_out(int n);
} // namespace plugin
} // namespace layout_cost
