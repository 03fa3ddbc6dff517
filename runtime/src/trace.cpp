// The trace: per-thread chunks of step records, appended by the thread that
// ran the step, and the Chrome/Perfetto trace-event writer.
#include "tracker.hpp"

#include "coroscope/output.hpp"
#include "json.hpp"

#include <cstdio>
#include <unistd.h>

namespace coroscope::detail {

void trace_step(thread_state &thread, const frame &f, const site *to, std::int64_t begin,
                std::int64_t end, bool suspended) noexcept {
  thread_record &record = *record_of(thread);
  trace_chunk *tail = record.trace_tail;
  if (tail == nullptr || tail->size.load(std::memory_order_relaxed) == kTraceChunkEvents) {
    runtime &r = rt();
    if (r.trace_budget.fetch_sub(kTraceChunkEvents, std::memory_order_relaxed) <
        static_cast<std::int64_t>(kTraceChunkEvents)) {
      r.trace_budget.fetch_add(kTraceChunkEvents, std::memory_order_relaxed);
      r.drop_trace.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto *chunk = new (std::nothrow) trace_chunk;
    if (chunk == nullptr) {
      r.drop_trace.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (tail == nullptr)
      record.trace_head.store(chunk, std::memory_order_release);
    else
      tail->next.store(chunk, std::memory_order_release);
    record.trace_tail = tail = chunk;
  }
  std::uint32_t n = tail->size.load(std::memory_order_relaxed);
  tail->events[n] = {begin,
                     end,
                     f.id_,
                     f.body_,
                     f.site_.load(std::memory_order_relaxed),
                     to,
                     f.suspensions_.load(std::memory_order_relaxed),
                     suspended};
  tail->size.store(n + 1, std::memory_order_release);
}

// Timestamps are integer nanoseconds since the tracker started, written as
// microseconds with three decimals: exact at any run length.
std::string trace_json() {
  runtime &r = rt();
  std::string out;
  json::writer w(out);
  auto ns_since_start = [&](std::int64_t ticks) {
    std::int64_t delta = ticks - r.start_ticks;
    return delta < 0 ? -static_cast<std::int64_t>(ticks_to_ns(-delta))
                     : static_cast<std::int64_t>(ticks_to_ns(delta));
  };
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
  std::lock_guard guard(r.registry_lock);
  for (thread_record *t : r.threads) {
    trace_chunk *chunk = t->trace_head.load(std::memory_order_acquire);
    if (chunk == nullptr)
      continue;
    auto tid = t->state.index;
    w.begin_object()
        .key("ph").value("M").key("name").value("thread_name").key("pid").value(pid)
        .key("tid").value(tid).key("args").begin_object()
        .key("name").value("coroscope thread " + std::to_string(tid)).end_object()
        .end_object();
    for (; chunk != nullptr; chunk = chunk->next.load(std::memory_order_acquire)) {
      std::uint32_t n = chunk->size.load(std::memory_order_acquire);
      for (std::uint32_t i = 0; i < n; ++i) {
        const step_record &e = chunk->events[i];
        const char *function = e.body != nullptr && e.body->function ? e.body->function : "?";
        std::int64_t begin = ns_since_start(e.begin);
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
  }
  w.end_array();
  w.key("otherData").begin_object();
  w.key("generator").value("coroscope");
  w.key("dropped_events").value(r.drop_trace.load());
  w.end_object();
  w.end_object();
  out += '\n';
  return out;
}

} // namespace coroscope::detail

namespace coroscope {

bool write_trace(const std::string &path) {
  return detail::write_now(path, "trace", detail::trace_json);
}

} // namespace coroscope
