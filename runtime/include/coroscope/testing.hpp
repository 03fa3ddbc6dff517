// Internal API for coroscope's own tests and tools: configuration parsing and
// direct access to the report model. Not part of the stable user API.
#pragma once

#include "coroscope/coroscope.hpp"
#include "coroscope/report.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace coroscope::detail {

struct config {
  bool enabled = true;
  double slow_ms = 100;
  double hang_ms = 10000;
  bool watchdog = false;
  bool signal = false;
  bool summary = false;
  std::string report_path, trace_path;
  std::string lock_facts_path; // COROSCOPE_LOCK_FACTS
  std::string clock = "auto"; // auto, tsc, steady; tests also: manual
  std::size_t max_records = 1000;
  std::size_t max_trace_events = 1000000;
  // COROSCOPE_TRACE_FORMAT: "json" or "perfetto"; empty: by the path's
  // extension (.json is JSON, anything else Perfetto).
  std::string trace_format;
  // COROSCOPE_TRACE_WINDOW, the flight recorder: keep only each thread's
  // last `trace_window_steps` steps, or the steps that ended in the last
  // `trace_window_seconds`. Both 0: keep the whole run.
  std::size_t trace_window_steps = 0;
  double trace_window_seconds = 0;
  std::size_t max_site_blocks = 16384;
  // COROSCOPE_LOCK_SAMPLE: time the hold of one uncontended lock
  // acquisition in this many (every contended one is timed); 1: all.
  std::size_t lock_sample = 16;
};

// Reads COROSCOPE_* through `getenv`. Each bad value adds a one-line warning
// to `warnings` and keeps the default.
config read_config(const std::function<const char *(const char *)> &getenv,
                   std::vector<std::string> &warnings);

// Replaces the live configuration (starting or stopping the watchdog) and,
// for tests, forgets everything recorded so far. Call it only while no
// tracked coroutine runs on another thread.
void reset_for_testing(const config &cfg);

// With clock "manual", time stands still until a test moves it; ticks are
// nanoseconds.
inline void advance_manual_clock(std::int64_t ns) {
  g_manual_now.fetch_add(ns, std::memory_order_relaxed);
}

// True while a thread is in a tracked blocking acquisition (locks.hpp).
bool lock_waiter_for_testing();

// The report as write_report() would write it now.
report::report make_report(bool at_exit = false);

// One of the watchdog's samples of the process's resources, whose peaks the
// report keeps (system_usage.cpp).
void note_system_sample();

// How many thread records the runtime keeps: threads that exited give theirs
// to the next thread that starts (threads.cpp).
std::size_t thread_records_for_testing();

} // namespace coroscope::detail
