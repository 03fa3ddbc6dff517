// The Chrome trace-event JSON writer: one "X" event per step on a track per
// thread, and flow events ("s" at a suspension, "f" at its resumption).
#include "trace.hpp"

#include "json.hpp"

#include <cstdio>
#include <unistd.h>

namespace coroscope::detail {

// Timestamps are integer nanoseconds since the tracker started, written as
// microseconds with three decimals: exact at any run length.
std::string trace_json(const trace_snapshot &snapshot) {
  std::string out;
  json::writer w(out);
  int pid = ::getpid();
  auto flow_id = [](std::uint64_t coroutine, std::uint32_t step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "0x%llx",
                  static_cast<unsigned long long>((coroutine << 20) | (step & 0xFFFFF)));
    return std::string(buffer);
  };
  auto where = [](const site *s) {
    return s == nullptr ? std::string("?") : std::string(s->file) + ":" + std::to_string(s->line);
  };
  w.begin_object();
  w.key("displayTimeUnit").value("ms");
  w.key("traceEvents").begin_array();
  w.begin_object()
      .key("ph").value("M").key("name").value("process_name").key("pid").value(pid)
      .key("args").begin_object().key("name").value(process_label()).end_object()
      .end_object();
  for (const thread_trace &thread : snapshot.threads) {
    auto tid = thread.index;
    w.begin_object()
        .key("ph").value("M").key("name").value("thread_name").key("pid").value(pid)
        .key("tid").value(tid).key("args").begin_object()
        .key("name").value("coroscope thread " + std::to_string(tid)).end_object()
        .end_object();
    for (const step_record &e : thread.steps) {
      const char *function = e.body != nullptr && e.body->function ? e.body->function : "?";
      std::int64_t begin = trace_ns_since_start(e.begin);
      w.begin_object();
      w.key("name").value(function).key("cat").value("coroutine").key("ph").value("X");
      w.key("ts").micros(begin).key("dur").micros(
          static_cast<std::int64_t>(ticks_to_ns(e.end - e.begin)));
      w.key("pid").value(pid).key("tid").value(tid);
      w.key("args").begin_object();
      w.key("coroutine").value(e.coroutine).key("step").value(e.step);
      w.key("from").value(where(e.from)).key("to").value(where(e.to));
      w.key("end").value(e.suspended ? "suspended" : "returned");
      w.end_object();
      w.end_object();
      bool resumed = e.from != nullptr && e.from->kind != site_kind::body && e.step > 0;
      if (resumed)
        w.begin_object()
            .key("name").value("resume").key("cat").value("coroutine").key("ph").value("f")
            .key("bp").value("e").key("id").value(flow_id(e.coroutine, e.step - 1))
            .key("ts").micros(begin).key("pid").value(pid).key("tid").value(tid)
            .end_object();
      if (e.suspended)
        w.begin_object()
            .key("name").value("resume").key("cat").value("coroutine").key("ph").value("s")
            .key("id").value(flow_id(e.coroutine, e.step)).key("ts").micros(begin)
            .key("pid").value(pid).key("tid").value(tid)
            .end_object();
    }
  }
  w.end_array();
  w.key("otherData").begin_object();
  w.key("generator").value("coroscope");
  w.key("dropped_events").value(snapshot.dropped_by_bound);
  if (!snapshot.window.empty()) {
    w.key("window").value(snapshot.window);
    w.key("dropped_by_window").value(snapshot.dropped_by_window);
  }
  if (snapshot.reason != nullptr)
    w.key("reason").value(snapshot.reason);
  w.end_object();
  w.end_object();
  out += '\n';
  return out;
}

} // namespace coroscope::detail
