// The clock: the TSC when the CPU's is invariant, else steady_clock, with a
// calibration the watchdog refines over the run.
#include "tracker.hpp"

#include <fstream>
#include <string>

namespace coroscope::detail {

namespace {

bool cpu_has_invariant_tsc() {
#if COROSCOPE_HAS_TSC
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0)
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
#endif
  return false;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct clock_anchor {
  std::int64_t ns = 0, ticks = 0;
};

clock_anchor g_anchor;

} // namespace

void choose_clock(const std::string &clock) {
  g_manual_clock.store(clock == "manual", std::memory_order_relaxed);
  bool tsc = clock == "tsc" || (clock == "auto" && cpu_has_invariant_tsc());
#if !COROSCOPE_HAS_TSC
  tsc = false;
#endif
  if (!tsc) {
    g_use_tsc.store(false, std::memory_order_relaxed);
    g_ns_per_tick.store(1.0, std::memory_order_relaxed);
    return;
  }
#if COROSCOPE_HAS_TSC
  // A short first calibration; the watchdog and reports refine it against
  // the whole run.
  std::int64_t ns0 = steady_ns();
  auto ticks0 = static_cast<std::int64_t>(__rdtsc());
  std::int64_t ns1 = ns0;
  while (ns1 - ns0 < 2'000'000)
    ns1 = steady_ns();
  auto ticks1 = static_cast<std::int64_t>(__rdtsc());
  g_anchor = {ns0, ticks0};
  if (ticks1 <= ticks0) {
    g_use_tsc.store(false, std::memory_order_relaxed);
    g_ns_per_tick.store(1.0, std::memory_order_relaxed);
    return;
  }
  g_ns_per_tick.store(double(ns1 - ns0) / double(ticks1 - ticks0), std::memory_order_relaxed);
  g_use_tsc.store(true, std::memory_order_relaxed);
#endif
}

std::int64_t ms_to_ticks(double ms) {
  return static_cast<std::int64_t>(ms * 1e6 / g_ns_per_tick.load(std::memory_order_relaxed));
}

void refine_clock() {
#if COROSCOPE_HAS_TSC
  if (!g_use_tsc.load(std::memory_order_relaxed))
    return;
  std::int64_t ns = steady_ns();
  auto ticks = static_cast<std::int64_t>(__rdtsc());
  if (ns - g_anchor.ns > 50'000'000 && ticks > g_anchor.ticks)
    g_ns_per_tick.store(double(ns - g_anchor.ns) / double(ticks - g_anchor.ticks),
                        std::memory_order_relaxed);
#endif
}

double ticks_to_ms_since_start(std::int64_t ticks) {
  return double(ticks - rt().start_ticks) * g_ns_per_tick.load(std::memory_order_relaxed) / 1e6;
}

// From a timestamp the caller already has: a clock read costs more than the
// rest of a coroutine's start.
std::int64_t seconds_since_start(std::int64_t ticks) {
  // Multiplications only: a division costs as much as the clock read.
  return static_cast<std::int64_t>(double(ticks - rt().start_ticks) *
                                   g_ns_per_tick.load(std::memory_order_relaxed) * 1e-9);
}

} // namespace coroscope::detail
