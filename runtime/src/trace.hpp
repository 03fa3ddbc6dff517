// What the trace's parts share:
//   trace_ring.cpp      the per-thread buffers (rings with a window) and
//                       the snapshot a writer reads
//   trace_json.cpp      the Chrome trace-event JSON writer
//   trace_perfetto.cpp  the Perfetto protobuf writer (trace_proto.hpp
//                       encodes the wire format)
//   trace_recorder.cpp  the flight recorder: dumps on request and at exit
//   trace.cpp           settings, the format of a path, write_trace()
#pragma once

#include "tracker.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroscope::detail {

// One thread's steps in a snapshot, oldest first.
struct thread_trace {
  std::uint32_t index = 0; // the tracker's thread number
  std::int32_t tid = 0;    // the OS thread id
  std::vector<step_record> steps;
};

struct trace_snapshot {
  std::vector<thread_trace> threads;
  std::int64_t taken_at = 0; // ticks
  std::uint64_t steps = 0;   // in `threads`
  // Steps left out: by the global bound, and by the window (overwritten in
  // a ring, or in it but older than the window when this was taken).
  std::uint64_t dropped_by_bound = 0, dropped_by_window = 0;
  std::string window;           // "10 s", "5000 steps"; empty: no window
  const char *reason = nullptr; // why a dump was written; null: asked for
};

enum class trace_format { json, perfetto };

// trace_ring.cpp
// Copies every thread's kept steps; threads go on writing meanwhile.
trace_snapshot take_trace_snapshot(const char *reason);
// Frees every buffer. No thread may trace or read the trace meanwhile.
void forget_trace();

// trace.cpp
bool window_configured(const config &cfg);
std::string window_label(const config &cfg); // "10 s", "5000 steps", or empty
trace_format format_for(const std::string &path);
std::string encode_trace(const trace_snapshot &snapshot, trace_format format);
// Nanoseconds since the tracker started, as the JSON writer spells time.
std::int64_t trace_ns_since_start(std::int64_t ticks);
// CLOCK_MONOTONIC nanoseconds, as the Perfetto writer spells time.
std::uint64_t trace_monotonic_ns(std::int64_t ticks);

// trace_json.cpp
std::string trace_json(const trace_snapshot &snapshot);

// trace_perfetto.cpp
std::string trace_perfetto(const trace_snapshot &snapshot);

// trace_recorder.cpp
// Arms the flight recorder for `cfg` (after stop_flight_recorder()).
void configure_flight_recorder(const config &cfg);

} // namespace coroscope::detail
