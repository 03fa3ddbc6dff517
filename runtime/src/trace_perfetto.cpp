// The Perfetto writer: a `Trace` protobuf of TrackEvent packets, the format
// ui.perfetto.dev and trace_processor read natively
// (protos/perfetto/trace/ in the Perfetto repository).
//
//   - one process track, with a "coroscope trace" instant when the file
//     was written (why, the window, the drop counts);
//   - one thread track per tracker thread, each on a packet sequence of its
//     own, whose defaults name the track, so events need not;
//   - per step a slice (TYPE_SLICE_BEGIN/END) named by the coroutine's
//     function, with its source location, its coroutine as correlation id
//     and annotations (coroutine, step, from, to, end), and a flow from each
//     suspension to its resumption;
//   - names, sites and annotation names interned once per sequence.
//
// Timestamps are CLOCK_MONOTONIC nanoseconds. The trace names no clock, so
// a reader takes them as trace time.
#include "trace.hpp"
#include "trace_proto.hpp"

#include <algorithm>
#include <fstream>
#include <string_view>
#include <type_traits>
#include <unistd.h>
#include <unordered_map>

namespace coroscope::detail {
namespace {

// Field numbers, from Perfetto's .proto files.
namespace trace_fields {
constexpr std::uint32_t packet = 1;
}
namespace packet_fields {
constexpr std::uint32_t timestamp = 8, sequence_id = 10, track_event = 11, interned_data = 12,
                        sequence_flags = 13, defaults = 59, track_descriptor = 60;
constexpr std::uint64_t incremental_state_cleared = 1, needs_incremental_state = 2;
} // namespace packet_fields
namespace defaults_fields { // TracePacketDefaults, TrackEventDefaults
constexpr std::uint32_t track_event_defaults = 11, track_uuid = 11;
}
namespace descriptor_fields { // TrackDescriptor, ProcessDescriptor, ThreadDescriptor
constexpr std::uint32_t uuid = 1, process = 3, thread = 4;
constexpr std::uint32_t process_pid = 1, process_name = 6;
constexpr std::uint32_t thread_pid = 1, thread_tid = 2, thread_name = 5;
} // namespace descriptor_fields
namespace event_fields { // TrackEvent
constexpr std::uint32_t category_iids = 3, debug_annotations = 4, type = 9, name_iid = 10,
                        track_uuid = 11, name = 23, source_location_iid = 34, flow_ids = 47,
                        terminating_flow_ids = 48, correlation_id = 52;
constexpr std::uint64_t slice_begin = 1, slice_end = 2, instant = 3;
} // namespace event_fields
namespace annotation_fields { // DebugAnnotation
constexpr std::uint32_t name_iid = 1, uint_value = 3, string_value = 6, name = 10,
                        string_value_iid = 17;
}
namespace interned_fields { // InternedData
constexpr std::uint32_t event_categories = 1, event_names = 2, annotation_names = 3,
                        source_locations = 4, annotation_strings = 29;
// EventCategory, EventName, DebugAnnotationName: iid = 1, name = 2;
// InternedString: iid = 1, str = 2; SourceLocation: iid = 1, file_name = 2,
// function_name = 3, line_number = 4.
constexpr std::uint32_t iid = 1, name = 2, file_name = 2, function_name = 3, line_number = 4;
} // namespace interned_fields

constexpr std::uint32_t kProcessSequence = 1;

// Interned per sequence, in every sequence's first packet.
enum fixed_names : std::uint64_t { kCoroutine = 1, kStep, kFrom, kTo, kEnd };
constexpr std::string_view kFixedNames[] = {"coroutine", "step", "from", "to", "end"};
constexpr std::uint64_t kCategory = 1, kSuspended = 1, kReturned = 2;

std::uint64_t flow_id(std::uint64_t coroutine, std::uint32_t step) {
  return (coroutine << 20) | (step & 0xFFFFF);
}

std::string program_name() {
  std::string name = "?";
  std::ifstream cmdline("/proc/self/cmdline");
  std::getline(cmdline, name, '\0');
  return name;
}

std::string where(const site *s) {
  return s == nullptr || s->file == nullptr ? std::string("?")
                                            : std::string(s->file) + ":" + std::to_string(s->line);
}

// Steps of one thread as properly nested slices. A step that resumed
// another coroutine contains that coroutine's step (which was recorded
// first, ending first); steps of one thread never overlap otherwise.
struct slice_edge {
  std::int64_t at; // ticks
  const step_record *begins; // null: the end of the innermost open slice
};

std::vector<slice_edge> nest(const std::vector<step_record> &steps) {
  std::vector<std::size_t> order(steps.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  // Outer steps first: earlier begin, then later end, then recorded later.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const step_record &x = steps[a], &y = steps[b];
    if (x.begin != y.begin)
      return x.begin < y.begin;
    if (x.end != y.end)
      return x.end > y.end;
    return a > b;
  });
  std::vector<slice_edge> edges;
  edges.reserve(2 * steps.size());
  struct open_slice {
    std::size_t index;
    std::int64_t end;
  };
  std::vector<open_slice> open;
  for (std::size_t i : order) {
    const step_record &s = steps[i];
    // Close the slices that ended before this step began (or at its
    // begin, if recorded before it).
    while (!open.empty() && (open.back().end < s.begin ||
                             (open.back().end == s.begin && open.back().index < i))) {
      edges.push_back({open.back().end, nullptr});
      open.pop_back();
    }
    // A step reaching past its parent's end would make the file invalid:
    // it cannot happen, but it is clamped rather than trusted.
    std::int64_t end = open.empty() ? s.end : std::min(s.end, open.back().end);
    edges.push_back({s.begin, &s});
    open.push_back({i, std::max(end, s.begin)});
  }
  while (!open.empty()) {
    edges.push_back({open.back().end, nullptr});
    open.pop_back();
  }
  return edges;
}

// One thread's packet sequence, with its interning state.
class thread_sequence {
public:
  thread_sequence(proto::writer &w, std::uint32_t id, std::uint64_t track)
      : w_(w), id_(id), track_(track), interned_writer_(interned_) {}

  // The first packet: it clears the sequence's state, makes the thread's
  // track the default one, describes it and interns the fixed names.
  void start(int pid, const thread_trace &thread, std::uint64_t at) {
    interned_.clear();
    {
      proto::message category(interned_writer_, interned_fields::event_categories);
      interned_writer_.varint(interned_fields::iid, kCategory);
      interned_writer_.bytes(interned_fields::name, "coroutine");
    }
    for (std::uint64_t i = 0; i < std::size(kFixedNames); ++i) {
      proto::message name(interned_writer_, interned_fields::annotation_names);
      interned_writer_.varint(interned_fields::iid, i + 1);
      interned_writer_.bytes(interned_fields::name, kFixedNames[i]);
    }
    intern_string(kSuspended, "suspended");
    intern_string(kReturned, "returned");
    next_string_ = kReturned + 1;

    proto::message packet(w_, trace_fields::packet);
    w_.varint(packet_fields::timestamp, at);
    w_.varint(packet_fields::sequence_id, id_);
    w_.varint(packet_fields::sequence_flags, packet_fields::incremental_state_cleared |
                                                 packet_fields::needs_incremental_state);
    {
      proto::message defaults(w_, packet_fields::defaults);
      proto::message event_defaults(w_, defaults_fields::track_event_defaults);
      w_.varint(defaults_fields::track_uuid, track_);
    }
    {
      proto::message descriptor(w_, packet_fields::track_descriptor);
      w_.varint(descriptor_fields::uuid, track_);
      proto::message thread_descriptor(w_, descriptor_fields::thread);
      w_.varint(descriptor_fields::thread_pid, static_cast<std::uint64_t>(pid));
      w_.varint(descriptor_fields::thread_tid,
                static_cast<std::uint64_t>(thread.tid != 0 ? thread.tid : thread.index));
      w_.bytes(descriptor_fields::thread_name,
               "coroscope thread " + std::to_string(thread.index));
    }
    w_.bytes(packet_fields::interned_data, interned_);
  }

  void begin_slice(const step_record &s) {
    interned_.clear();
    std::uint64_t name = name_of(s.body);
    std::uint64_t location = location_of(s.body);
    std::uint64_t from = place_of(s.from);
    std::uint64_t to = place_of(s.to);

    proto::message packet(w_, trace_fields::packet);
    header(s.begin);
    if (!interned_.empty())
      w_.bytes(packet_fields::interned_data, interned_);
    proto::message event(w_, packet_fields::track_event);
    w_.varint(event_fields::type, event_fields::slice_begin);
    w_.varint(event_fields::category_iids, kCategory);
    w_.varint(event_fields::name_iid, name);
    if (location != 0)
      w_.varint(event_fields::source_location_iid, location);
    w_.varint(event_fields::correlation_id, s.coroutine);
    annotate(kCoroutine, s.coroutine);
    annotate(kStep, s.step);
    annotate_string(kFrom, from);
    annotate_string(kTo, to);
    annotate_string(kEnd, s.suspended ? kSuspended : kReturned);
    if (s.from != nullptr && s.from->kind != site_kind::body && s.step > 0)
      w_.fixed64(event_fields::terminating_flow_ids, flow_id(s.coroutine, s.step - 1));
    if (s.suspended)
      w_.fixed64(event_fields::flow_ids, flow_id(s.coroutine, s.step));
  }

  void end_slice(std::int64_t at) {
    proto::message packet(w_, trace_fields::packet);
    header(at);
    proto::message event(w_, packet_fields::track_event);
    w_.varint(event_fields::type, event_fields::slice_end);
  }

private:
  void header(std::int64_t ticks) {
    w_.varint(packet_fields::timestamp, trace_monotonic_ns(ticks));
    w_.varint(packet_fields::sequence_id, id_);
    w_.varint(packet_fields::sequence_flags, packet_fields::needs_incremental_state);
  }

  void annotate(std::uint64_t name, std::uint64_t value) {
    proto::message annotation(w_, event_fields::debug_annotations);
    w_.varint(annotation_fields::name_iid, name);
    w_.varint(annotation_fields::uint_value, value);
  }
  void annotate_string(std::uint64_t name, std::uint64_t string_iid) {
    proto::message annotation(w_, event_fields::debug_annotations);
    w_.varint(annotation_fields::name_iid, name);
    w_.varint(annotation_fields::string_value_iid, string_iid);
  }

  void intern_string(std::uint64_t iid, std::string_view text) {
    proto::message entry(interned_writer_, interned_fields::annotation_strings);
    interned_writer_.varint(interned_fields::iid, iid);
    interned_writer_.bytes(interned_fields::name, text);
  }

  // Functions are interned by name: two sites may spell one function.
  std::uint64_t name_of(const site *body) {
    std::string_view function = body != nullptr && body->function != nullptr ? body->function : "?";
    auto [found, added] = names_.try_emplace(function, names_.size() + 1);
    if (added) {
      proto::message entry(interned_writer_, interned_fields::event_names);
      interned_writer_.varint(interned_fields::iid, found->second);
      interned_writer_.bytes(interned_fields::name, function);
    }
    return found->second;
  }

  std::uint64_t location_of(const site *body) {
    if (body == nullptr || body->file == nullptr)
      return 0;
    auto [found, added] = locations_.try_emplace(body, locations_.size() + 1);
    if (added) {
      proto::message entry(interned_writer_, interned_fields::source_locations);
      interned_writer_.varint(interned_fields::iid, found->second);
      interned_writer_.bytes(interned_fields::file_name, body->file);
      if (body->function != nullptr)
        interned_writer_.bytes(interned_fields::function_name, body->function);
      interned_writer_.varint(interned_fields::line_number, body->line);
    }
    return found->second;
  }

  // "file:line", interned by site, and by text: sites on one line share it.
  std::uint64_t place_of(const site *s) {
    auto by_site = places_.find(s);
    if (by_site != places_.end())
      return by_site->second;
    std::string text = where(s);
    auto [found, added] = place_texts_.try_emplace(text, next_string_);
    if (added)
      intern_string(next_string_++, text);
    places_.emplace(s, found->second);
    return found->second;
  }

  proto::writer &w_;
  std::uint32_t id_;
  std::uint64_t track_;
  std::string interned_; // InternedData for the packet being written
  proto::writer interned_writer_;
  std::unordered_map<std::string_view, std::uint64_t> names_;
  std::unordered_map<const site *, std::uint64_t> locations_;
  std::unordered_map<const site *, std::uint64_t> places_;
  std::unordered_map<std::string, std::uint64_t> place_texts_;
  std::uint64_t next_string_ = 1;
};

// The process track, from the first step on, and the instant that says
// when and why the file was written. Names here appear once: they are not
// interned.
void write_process(proto::writer &w, int pid, std::uint64_t track, const trace_snapshot &snapshot) {
  std::int64_t first = snapshot.taken_at;
  for (const thread_trace &thread : snapshot.threads)
    for (const step_record &s : thread.steps)
      first = std::min(first, s.begin);
  std::uint64_t at = trace_monotonic_ns(snapshot.taken_at);
  {
    proto::message packet(w, trace_fields::packet);
    w.varint(packet_fields::timestamp, trace_monotonic_ns(first));
    w.varint(packet_fields::sequence_id, kProcessSequence);
    w.varint(packet_fields::sequence_flags, packet_fields::incremental_state_cleared);
    proto::message descriptor(w, packet_fields::track_descriptor);
    w.varint(descriptor_fields::uuid, track);
    proto::message process(w, descriptor_fields::process);
    w.varint(descriptor_fields::process_pid, static_cast<std::uint64_t>(pid));
    w.bytes(descriptor_fields::process_name, program_name());
  }
  proto::message packet(w, trace_fields::packet);
  w.varint(packet_fields::timestamp, at);
  w.varint(packet_fields::sequence_id, kProcessSequence);
  proto::message event(w, packet_fields::track_event);
  w.varint(event_fields::type, event_fields::instant);
  w.varint(event_fields::track_uuid, track);
  w.bytes(event_fields::name, "coroscope trace");
  auto annotate = [&](std::string_view name, auto value) {
    proto::message annotation(w, event_fields::debug_annotations);
    w.bytes(annotation_fields::name, name);
    if constexpr (std::is_integral_v<decltype(value)>)
      w.varint(annotation_fields::uint_value, value);
    else
      w.bytes(annotation_fields::string_value, value);
  };
  annotate("reason", std::string_view(snapshot.reason != nullptr ? snapshot.reason : "asked"));
  if (!snapshot.window.empty())
    annotate("window", std::string_view(snapshot.window));
  annotate("steps", snapshot.steps);
  annotate("dropped_by_bound", snapshot.dropped_by_bound);
  annotate("dropped_by_window", snapshot.dropped_by_window);
}

} // namespace

std::string trace_perfetto(const trace_snapshot &snapshot) {
  std::string out;
  out.reserve(64 + snapshot.steps * 96);
  proto::writer w(out);
  int pid = ::getpid();
  // Track uuids: unique in the trace, and across the files of one run's
  // processes.
  std::uint64_t process_track = std::uint64_t(static_cast<std::uint32_t>(pid)) << 32;
  write_process(w, pid, process_track, snapshot);
  for (const thread_trace &thread : snapshot.threads) {
    thread_sequence sequence(w, kProcessSequence + thread.index, process_track | thread.index);
    std::vector<slice_edge> edges = nest(thread.steps);
    sequence.start(pid, thread, trace_monotonic_ns(edges.front().at));
    for (const slice_edge &edge : edges) {
      if (edge.begins != nullptr)
        sequence.begin_slice(*edge.begins);
      else
        sequence.end_slice(edge.at);
    }
  }
  return out;
}

} // namespace coroscope::detail
