// The trace formats and the flight recorder. Perfetto files are read back by
// a strict protobuf decoder written here, independent of the writer: every
// packet must parse with the field numbers and wire types of Perfetto's
// .proto files, interned ids must be defined on their sequence before use,
// and slices must nest on their tracks. When protoc is installed, its
// schema-less decoder reads the files too.
#include "support.hpp"
#include "test_util.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string_view>
#include <unistd.h>

// The runtime's internal hooks that these tests drive (tracker.hpp).
namespace coroscope::detail {
void trace_trigger(const char *why) noexcept;
bool write_flight_recording(int signal_number);
} // namespace coroscope::detail

using namespace coroscope_test;
namespace fs = std::filesystem;

namespace {

// --- A strict protobuf reader -----------------------------------------------

struct bad_trace : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void require(bool ok, const std::string &what) {
  if (!ok)
    throw bad_trace(what);
}

enum wire { varint = 0, i64 = 1, len = 2 };

struct field {
  std::uint32_t number;
  wire type;
  std::uint64_t value;    // varint, i64
  std::string_view bytes; // len
};

std::uint64_t read_varint(std::string_view &in) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    require(!in.empty(), "truncated varint");
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    require(shift < 63 || byte <= 1, "varint overflows 64 bits");
    value |= std::uint64_t(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0)
      return value;
  }
  throw bad_trace("varint longer than 10 bytes");
}

// Every field of a message; anything malformed throws.
std::vector<field> fields_of(std::string_view in) {
  std::vector<field> out;
  while (!in.empty()) {
    std::uint64_t tag = read_varint(in);
    auto number = static_cast<std::uint32_t>(tag >> 3);
    require(number != 0 && (tag >> 3) < (1u << 29), "bad field number");
    field f{number, static_cast<wire>(tag & 7), 0, {}};
    switch (tag & 7) {
    case varint:
      f.value = read_varint(in);
      break;
    case i64:
      require(in.size() >= 8, "truncated fixed64");
      for (int i = 0; i < 8; ++i)
        f.value |= std::uint64_t(static_cast<unsigned char>(in[i])) << (8 * i);
      in.remove_prefix(8);
      break;
    case len: {
      std::uint64_t size = read_varint(in);
      require(size <= in.size(), "length past the end of the message");
      f.bytes = in.substr(0, size);
      in.remove_prefix(size);
      break;
    }
    default:
      throw bad_trace("unexpected wire type " + std::to_string(tag & 7));
    }
    out.push_back(f);
  }
  return out;
}

// Checks each field against `expected` (number -> wire type); `repeated`
// numbers may occur more than once.
void check_schema(const std::vector<field> &fields, const std::map<std::uint32_t, wire> &expected,
                  const std::set<std::uint32_t> &repeated, const char *message) {
  std::set<std::uint32_t> seen;
  for (const field &f : fields) {
    auto known = expected.find(f.number);
    require(known != expected.end(),
            std::string(message) + ": unexpected field " + std::to_string(f.number));
    require(known->second == f.type,
            std::string(message) + ": wrong wire type for field " + std::to_string(f.number));
    require(seen.insert(f.number).second || repeated.count(f.number) != 0,
            std::string(message) + ": field " + std::to_string(f.number) + " twice");
  }
}

// --- The Perfetto trace, as a reader sees it ---------------------------------

struct track {
  bool process = false;
  std::int64_t pid = 0, tid = 0;
  std::string name;
};

struct slice {
  std::uint64_t track = 0;
  std::uint32_t sequence = 0;
  std::string name, category, source_file, source_function;
  std::uint64_t begin = 0, end = 0;
  std::uint64_t correlation = 0;
  std::map<std::string, std::string> args; // annotation name -> value as text
  std::vector<std::uint64_t> flows, terminating_flows;
};

struct perfetto_trace {
  std::map<std::uint64_t, track> tracks;
  std::vector<slice> slices; // in the order they ended
  std::vector<slice> instants;
  std::size_t packets = 0;
  // Interned event names, per sequence: how often each was defined.
  std::map<std::uint32_t, std::map<std::string, int>> interned_names;

  std::vector<const slice *> named(const std::string &name) const {
    std::vector<const slice *> out;
    for (const slice &s : slices)
      if (s.name == name)
        out.push_back(&s);
    return out;
  }
  const slice &marker() const {
    for (const slice &s : instants)
      if (s.name == "coroscope trace")
        return s;
    throw bad_trace("no 'coroscope trace' instant");
  }
};

// One sequence's incremental state: interned entries since it was cleared.
struct sequence_state {
  bool cleared = false;
  std::uint64_t default_track = 0;
  std::uint64_t last_timestamp = 0;
  // InternedData field number -> iid -> decoded entry
  std::map<std::uint32_t, std::map<std::uint64_t, std::vector<field>>> interned;
};

std::string text_of(const std::vector<field> &entry, std::uint32_t number) {
  for (const field &f : entry)
    if (f.number == number)
      return std::string(f.bytes);
  return "";
}

const std::vector<field> &lookup(sequence_state &state, std::uint32_t kind, std::uint64_t iid) {
  require(iid != 0, "interned id 0");
  auto found = state.interned[kind].find(iid);
  require(found != state.interned[kind].end(),
          "interned id " + std::to_string(iid) + " of InternedData field " + std::to_string(kind) +
              " used before it is defined on its sequence");
  return found->second;
}

void read_interned(std::string_view bytes, std::uint32_t sequence, sequence_state &state,
                   perfetto_trace &trace) {
  auto fields = fields_of(bytes);
  // event_categories, event_names, debug_annotation_names, source_locations,
  // debug_annotation_string_values
  check_schema(fields, {{1, len}, {2, len}, {3, len}, {4, len}, {29, len}}, {1, 2, 3, 4, 29},
               "InternedData");
  for (const field &f : fields) {
    auto entry = fields_of(f.bytes);
    if (f.number == 4)
      check_schema(entry, {{1, varint}, {2, len}, {3, len}, {4, varint}}, {}, "SourceLocation");
    else
      check_schema(entry, {{1, varint}, {2, len}}, {}, "interned entry");
    std::uint64_t iid = 0;
    for (const field &e : entry)
      if (e.number == 1)
        iid = e.value;
    require(iid != 0, "interned entry without an iid");
    require(state.interned[f.number].emplace(iid, entry).second,
            "iid " + std::to_string(iid) + " defined twice on a sequence");
    if (f.number == 2)
      ++trace.interned_names[sequence][text_of(entry, 2)];
  }
}

void read_descriptor(std::string_view bytes, perfetto_trace &trace) {
  auto fields = fields_of(bytes);
  check_schema(fields, {{1, varint}, {3, len}, {4, len}}, {}, "TrackDescriptor");
  track t;
  std::uint64_t uuid = 0;
  for (const field &f : fields) {
    if (f.number == 1)
      uuid = f.value;
    auto inner = f.number == 1 ? std::vector<field>{} : fields_of(f.bytes);
    if (f.number == 3) {
      check_schema(inner, {{1, varint}, {6, len}}, {}, "ProcessDescriptor");
      t.process = true;
      for (const field &p : inner)
        (p.number == 1 ? (void)(t.pid = std::int64_t(p.value)) : (void)(t.name = p.bytes));
    } else if (f.number == 4) {
      check_schema(inner, {{1, varint}, {2, varint}, {5, len}}, {}, "ThreadDescriptor");
      for (const field &p : inner)
        if (p.number == 1)
          t.pid = std::int64_t(p.value);
        else if (p.number == 2)
          t.tid = std::int64_t(p.value);
        else
          t.name = p.bytes;
    }
  }
  require(uuid != 0, "track without a uuid");
  require(t.pid != 0, "track without a pid");
  require(trace.tracks.emplace(uuid, t).second, "track described twice");
}

void read_annotation(std::string_view bytes, sequence_state &state, slice &s) {
  auto fields = fields_of(bytes);
  check_schema(fields, {{1, varint}, {10, len}, {3, varint}, {6, len}, {17, varint}}, {},
               "DebugAnnotation");
  std::string name, value;
  for (const field &f : fields) {
    if (f.number == 1)
      name = text_of(lookup(state, 3, f.value), 2);
    else if (f.number == 10)
      name = f.bytes;
    else if (f.number == 3)
      value = std::to_string(f.value);
    else if (f.number == 6)
      value = f.bytes;
    else
      value = text_of(lookup(state, 29, f.value), 2);
  }
  require(!name.empty(), "annotation without a name");
  s.args[name] = value;
}

perfetto_trace decode_perfetto(const std::string &bytes) {
  perfetto_trace trace;
  std::map<std::uint32_t, sequence_state> sequences;
  std::map<std::uint64_t, std::vector<slice>> open; // track -> open slices
  for (const field &p : fields_of(bytes)) {
    require(p.number == 1 && p.type == len, "a Trace holds only packets (field 1)");
    ++trace.packets;
    auto fields = fields_of(p.bytes);
    check_schema(fields,
                 {{8, varint}, {10, varint}, {13, varint}, {11, len}, {12, len}, {59, len},
                  {60, len}},
                 {}, "TracePacket");
    std::uint64_t timestamp = 0, flags = 0;
    std::uint32_t sequence = 0;
    for (const field &f : fields)
      if (f.number == 8)
        timestamp = f.value;
      else if (f.number == 10)
        sequence = static_cast<std::uint32_t>(f.value);
      else if (f.number == 13)
        flags = f.value;
    require(sequence != 0, "packet without a trusted_packet_sequence_id");
    require(timestamp != 0, "packet without a timestamp");
    require((flags & ~std::uint64_t{3}) == 0, "unknown sequence flags");
    sequence_state &state = sequences[sequence];
    require(timestamp >= state.last_timestamp, "timestamps go back on a sequence");
    state.last_timestamp = timestamp;
    if (flags & 1) // SEQ_INCREMENTAL_STATE_CLEARED
      state = sequence_state{true, 0, timestamp, {}};
    bool needs_state = (flags & 2) != 0;
    require(!needs_state || state.cleared,
            "SEQ_NEEDS_INCREMENTAL_STATE before the state was cleared");
    for (const field &f : fields) {
      if (f.number == 12) {
        require(needs_state, "interned data in a packet without SEQ_NEEDS_INCREMENTAL_STATE");
        read_interned(f.bytes, sequence, state, trace);
      } else if (f.number == 59) {
        require(flags & 1, "packet defaults outside a clearing packet");
        auto defaults = fields_of(f.bytes);
        check_schema(defaults, {{11, len}}, {}, "TracePacketDefaults");
        auto event_defaults = fields_of(defaults.at(0).bytes);
        check_schema(event_defaults, {{11, varint}}, {}, "TrackEventDefaults");
        state.default_track = event_defaults.at(0).value;
      } else if (f.number == 60) {
        read_descriptor(f.bytes, trace);
      }
    }
    for (const field &f : fields) {
      if (f.number != 11)
        continue;
      auto event = fields_of(f.bytes);
      check_schema(event,
                   {{3, varint}, {4, len}, {9, varint}, {10, varint}, {11, varint}, {23, len},
                    {34, varint}, {47, i64}, {48, i64}, {52, varint}},
                   {4, 47, 48}, "TrackEvent");
      slice s;
      s.sequence = sequence;
      s.begin = timestamp;
      s.track = state.default_track;
      std::uint64_t type = 0;
      bool uses_state = false;
      for (const field &e : event) {
        switch (e.number) {
        case 3:
          s.category = text_of(lookup(state, 1, e.value), 2);
          uses_state = true;
          break;
        case 4:
          read_annotation(e.bytes, state, s);
          uses_state = true; // checked per annotation: inline names need none
          break;
        case 9:
          type = e.value;
          break;
        case 10:
          s.name = text_of(lookup(state, 2, e.value), 2);
          uses_state = true;
          break;
        case 11:
          s.track = e.value;
          break;
        case 23:
          s.name = e.bytes;
          break;
        case 34: {
          const auto &location = lookup(state, 4, e.value);
          s.source_file = text_of(location, 2);
          s.source_function = text_of(location, 3);
          uses_state = true;
          break;
        }
        case 47:
          s.flows.push_back(e.value);
          break;
        case 48:
          s.terminating_flows.push_back(e.value);
          break;
        case 52:
          s.correlation = e.value;
          break;
        }
      }
      if (uses_state && type != 3)
        require(needs_state, "interned ids in a packet without SEQ_NEEDS_INCREMENTAL_STATE");
      require(s.track != 0, "event without a track");
      require(trace.tracks.count(s.track) != 0, "event on a track not described before");
      auto &stack = open[s.track];
      if (type == 1) { // TYPE_SLICE_BEGIN
        require(!s.name.empty(), "a slice without a name");
        stack.push_back(s);
      } else if (type == 2) { // TYPE_SLICE_END
        require(s.name.empty() && s.args.empty(), "an END event repeats its BEGIN");
        require(!stack.empty(), "END without an open slice on its track");
        slice done = stack.back();
        stack.pop_back();
        done.end = timestamp;
        require(done.end >= done.begin, "a slice ends before it begins");
        trace.slices.push_back(done);
      } else {
        require(type == 3, "unexpected TrackEvent type " + std::to_string(type));
        trace.instants.push_back(s);
      }
    }
  }
  for (const auto &[uuid, stack] : open)
    require(stack.empty(), "slices left open on track " + std::to_string(uuid));
  return trace;
}

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// protoc's schema-less decoder, when it is installed, must read the file.
void decode_raw_with_protoc(const fs::path &path) {
  if (std::system("command -v protoc >/dev/null 2>&1") != 0) {
    std::printf("note: protoc is not installed; --decode_raw not run\n");
    return;
  }
  std::string command = "protoc --decode_raw < '" + path.string() + "' > '" + path.string() +
                        ".txt' 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << read_file(path.string() + ".txt");
}

// The decoder itself must refuse what a reader would: built by hand here.
std::string tag(std::uint32_t number, int type, std::uint64_t value_or_size) {
  std::string out;
  for (std::uint64_t v : {std::uint64_t(number) << 3 | type, value_or_size}) {
    for (; v >= 0x80; v >>= 7)
      out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    out.push_back(static_cast<char>(v));
  }
  return out;
}
std::string varint_field(std::uint32_t number, std::uint64_t value) {
  return tag(number, varint, value);
}
std::string len_field(std::uint32_t number, const std::string &bytes) {
  return tag(number, len, bytes.size()) + bytes;
}
std::string packet(std::uint64_t flags, const std::string &body) {
  std::string fields = varint_field(8, 1000) + varint_field(10, 1) + body;
  if (flags != 0)
    fields += varint_field(13, flags);
  return len_field(1, fields);
}

TEST(PerfettoDecoder, RefusesWhatAReaderWould) {
  std::string process = packet(1, len_field(60, varint_field(1, 7) +
                                                    len_field(3, varint_field(1, 42))));
  std::string named = len_field(11, varint_field(9, 3) + varint_field(11, 7) +
                                        len_field(23, "instant"));
  EXPECT_NO_THROW(decode_perfetto(process + packet(0, named)));
  EXPECT_THROW(decode_perfetto((process + packet(0, named)).substr(0, process.size() + 5)),
               bad_trace)
      << "truncated";
  EXPECT_THROW(decode_perfetto(process + packet(0, varint_field(99, 1))), bad_trace)
      << "unknown field";
  EXPECT_THROW(decode_perfetto(process + packet(0, len_field(8, "x"))), bad_trace)
      << "wrong wire type";
  std::string interned_name = len_field(11, varint_field(9, 3) + varint_field(11, 7) +
                                                varint_field(10, 1));
  EXPECT_THROW(decode_perfetto(process + packet(2, interned_name)), bad_trace)
      << "an iid never interned";
  std::string name_entry = len_field(12, len_field(2, varint_field(1, 1) + len_field(2, "n")));
  EXPECT_NO_THROW(decode_perfetto(process + packet(2, name_entry + interned_name)));
  EXPECT_THROW(decode_perfetto(process + packet(0, name_entry + interned_name)), bad_trace)
      << "interning without SEQ_NEEDS_INCREMENTAL_STATE";
  std::string end = len_field(11, varint_field(9, 2) + varint_field(11, 7));
  EXPECT_THROW(decode_perfetto(process + packet(0, end)), bad_trace) << "END without BEGIN";
  std::string begin = len_field(11, varint_field(9, 1) + varint_field(11, 7) +
                                        len_field(23, "open"));
  EXPECT_THROW(decode_perfetto(process + packet(0, begin)), bad_trace) << "BEGIN without END";
  EXPECT_NO_THROW(decode_perfetto(process + packet(0, begin) + packet(0, end)));
  EXPECT_THROW(decode_perfetto(process + packet(0, begin + begin) + packet(0, end)), bad_trace)
      << "two events in one packet";
}

// --- Fixtures and workloads -------------------------------------------------

class TraceTest : public ScratchDirTest {
protected:
  coroscope::detail::config traced(const std::string &file) {
    auto cfg = config();
    cfg.trace_path = (dir_ / file).string();
    return cfg;
  }
  perfetto_trace written(const std::string &file) {
    fs::path path = dir_ / file;
    EXPECT_TRUE(coroscope::write_trace(path.string()));
    try {
      return decode_perfetto(read_file(path));
    } catch (const bad_trace &e) {
      ADD_FAILURE() << "not a valid Perfetto trace: " << e.what();
      return {};
    }
  }
};

task<> traced_hop(thread_pool &pool, std::atomic<bool> &done) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_AWAIT(pool.schedule());
  done = true;
  COROSCOPE_RETURN();
}

void run_traced_hop() {
  std::atomic<bool> done{false};
  auto pool = std::make_unique<thread_pool>(1);
  auto t = traced_hop(*pool, done);
  t.start();
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  pool.reset(); // joins its thread: the hop has ended
  ASSERT_TRUE(t.done());
}

task<> steps(int n, std::int64_t ns_each) {
  COROSCOPE_CORO();
  for (int i = 0; i < n; ++i) {
    coroscope::detail::advance_manual_clock(ns_each);
    COROSCOPE_AWAIT(std::suspend_never{});
  }
  COROSCOPE_RETURN();
}

task<> waiter(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  coroscope::detail::advance_manual_clock(10);
  COROSCOPE_RETURN();
}

task<> firer(event &e) {
  COROSCOPE_CORO();
  coroscope::detail::advance_manual_clock(10);
  e.fire(); // the waiter's last step runs inside this step
  coroscope::detail::advance_manual_clock(10);
  COROSCOPE_RETURN();
}

std::uint64_t arg(const slice &s, const std::string &name) {
  auto found = s.args.find(name);
  if (found == s.args.end())
    throw bad_trace("no annotation " + name);
  return std::stoull(found->second);
}

// --- Perfetto ---------------------------------------------------------------

TEST_F(TraceTest, PerfettoTraceHasTracksSlicesFlowsAndInternedNames) {
  reset(traced("unused.pftrace"));
  run_traced_hop();
  run_traced_hop();
  fs::path path = dir_ / "trace.pftrace";
  ASSERT_TRUE(coroscope::write_trace(path.string()));
  std::string bytes = read_file(path);
  perfetto_trace trace;
  try {
    trace = decode_perfetto(bytes);
  } catch (const bad_trace &e) {
    FAIL() << "not a valid Perfetto trace: " << e.what();
  }
  decode_raw_with_protoc(path);

  int processes = 0;
  for (const auto &[uuid, t] : trace.tracks) {
    EXPECT_EQ(t.pid, ::getpid());
    if (t.process) {
      ++processes;
      EXPECT_FALSE(t.name.empty());
    } else {
      EXPECT_EQ(t.name.rfind("coroscope thread ", 0), 0u) << t.name;
      EXPECT_GT(t.tid, 0);
    }
  }
  EXPECT_EQ(processes, 1);

  auto hops = trace.named("traced_hop");
  ASSERT_EQ(hops.size(), 6u); // two coroutines of 3 steps each
  std::set<std::uint64_t> tracks, coroutines, flows, terminating;
  for (const slice *s : hops) {
    tracks.insert(s->track);
    coroutines.insert(arg(*s, "coroutine"));
    EXPECT_EQ(s->correlation, arg(*s, "coroutine"));
    EXPECT_EQ(s->category, "coroutine");
    EXPECT_EQ(fs::path(s->source_file).filename(), "trace_format_test.cpp");
    EXPECT_EQ(s->source_function, "traced_hop");
    EXPECT_NE(s->args.at("from").find("trace_format_test.cpp:"), std::string::npos);
    EXPECT_NE(s->args.at("to").find("trace_format_test.cpp:"), std::string::npos);
    EXPECT_TRUE(s->args.at("end") == "suspended" || s->args.at("end") == "returned");
    EXPECT_EQ(s->flows.size(), s->args.at("end") == "suspended" ? 1u : 0u);
    flows.insert(s->flows.begin(), s->flows.end());
    terminating.insert(s->terminating_flows.begin(), s->terminating_flows.end());
  }
  EXPECT_EQ(tracks.size(), 3u) << "the main thread and two pool threads";
  EXPECT_EQ(coroutines.size(), 2u);
  EXPECT_EQ(flows.size(), 4u);
  EXPECT_EQ(flows, terminating) << "every suspension flows to its resumption";
  for (const slice *s : hops)
    for (std::uint64_t id : s->terminating_flows)
      for (const slice *t : hops)
        if (std::count(t->flows.begin(), t->flows.end(), id))
          EXPECT_LE(t->begin, s->begin) << "a flow runs forward in time";
  for (const auto &[sequence, names] : trace.interned_names)
    for (const auto &[name, times] : names)
      EXPECT_EQ(times, 1) << name << " interned " << times << " times on sequence " << sequence;

  const slice &marker = trace.marker();
  EXPECT_EQ(marker.args.at("reason"), "asked");
  EXPECT_EQ(arg(marker, "steps"), trace.slices.size());
  EXPECT_EQ(arg(marker, "dropped_by_bound"), 0u);
  EXPECT_EQ(marker.args.count("window"), 0u);
}

TEST_F(TraceTest, StepsThatResumeOthersContainTheirSlices) {
  auto cfg = traced("unused.pftrace");
  cfg.clock = "manual";
  reset(cfg);
  coroscope::detail::advance_manual_clock(1'000'000);
  event e;
  auto w = waiter(e);
  w.start();
  auto f = firer(e);
  f.start();
  ASSERT_TRUE(w.done() && f.done());
  perfetto_trace trace = written("trace.pftrace");
  auto outer = trace.named("firer");
  auto inner = trace.named("waiter");
  ASSERT_EQ(outer.size(), 1u);
  ASSERT_EQ(inner.size(), 2u);
  // The waiter's second step ran inside the firer's only step.
  const slice *resumed = inner[0]->begin > inner[1]->begin ? inner[0] : inner[1];
  EXPECT_EQ(resumed->track, outer[0]->track);
  EXPECT_LT(outer[0]->begin, resumed->begin);
  EXPECT_LT(resumed->end, outer[0]->end);
  EXPECT_EQ(outer[0]->end - outer[0]->begin, 30u);
  EXPECT_EQ(resumed->end - resumed->begin, 10u);
}

// --- Formats ----------------------------------------------------------------

TEST_F(TraceTest, FormatFollowsTheExtensionUnlessChosen) {
  reset(traced("unused"));
  run_traced_hop();
  ASSERT_TRUE(coroscope::write_trace((dir_ / "a.json").string()));
  ASSERT_TRUE(coroscope::write_trace((dir_ / "b.JSON").string()));
  ASSERT_TRUE(coroscope::write_trace((dir_ / "c.pftrace").string()));
  ASSERT_TRUE(coroscope::write_trace((dir_ / "d.perfetto-trace").string()));
  EXPECT_TRUE(nlohmann::json::parse(read_file(dir_ / "a.json")).contains("traceEvents"));
  EXPECT_TRUE(nlohmann::json::parse(read_file(dir_ / "b.JSON")).contains("traceEvents"));
  EXPECT_NO_THROW(decode_perfetto(read_file(dir_ / "c.pftrace")));
  EXPECT_NO_THROW(decode_perfetto(read_file(dir_ / "d.perfetto-trace")));

  auto cfg = traced("unused");
  cfg.trace_format = "json";
  reset(cfg);
  run_traced_hop();
  ASSERT_TRUE(coroscope::write_trace((dir_ / "e.pftrace").string()));
  nlohmann::json j = nlohmann::json::parse(read_file(dir_ / "e.pftrace"));
  int steps = 0;
  for (const auto &event : j["traceEvents"])
    steps += event["ph"] == "X" && event["name"] == "traced_hop";
  EXPECT_EQ(steps, 3);

  cfg.trace_format = "perfetto";
  reset(cfg);
  run_traced_hop();
  ASSERT_TRUE(coroscope::write_trace((dir_ / "f.json").string()));
  EXPECT_EQ(decode_perfetto(read_file(dir_ / "f.json")).named("traced_hop").size(), 3u);
}

TEST(TraceConfig, ReadsFormatAndWindow) {
  std::vector<std::string> warnings;
  auto cfg = read_config_from({{"COROSCOPE_TRACE_FORMAT", "Perfetto"}, {"COROSCOPE_TRACE_WINDOW", "5000"}},
                      warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cfg.trace_format, "perfetto");
  EXPECT_EQ(cfg.trace_window_steps, 5000u);
  EXPECT_EQ(cfg.trace_window_seconds, 0);

  cfg = read_config_from({{"COROSCOPE_TRACE_FORMAT", "json"}, {"COROSCOPE_TRACE_WINDOW", "2.5s"}},
                 warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cfg.trace_format, "json");
  EXPECT_EQ(cfg.trace_window_steps, 0u);
  EXPECT_EQ(cfg.trace_window_seconds, 2.5);

  cfg = read_config_from({{"COROSCOPE_TRACE_WINDOW", "0"}}, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cfg.trace_window_steps, 0u);
  EXPECT_EQ(cfg.trace_window_seconds, 0);
}

TEST(TraceConfig, BadValuesWarnOnceAndKeepDefaults) {
  for (const char *window : {"-3", "10ms", "s", "0s", "1e400s", "nans", "5 s", " 5", "ten"}) {
    std::vector<std::string> warnings;
    auto cfg = read_config_from({{"COROSCOPE_TRACE_WINDOW", window}}, warnings);
    ASSERT_EQ(warnings.size(), 1u) << window;
    EXPECT_EQ(warnings[0], std::string("coroscope: warning: COROSCOPE_TRACE_WINDOW='") + window +
                               "' is not a number of steps or of seconds (5000, 10s); keeping "
                               "the whole run");
    EXPECT_EQ(cfg.trace_window_steps, 0u) << window;
    EXPECT_EQ(cfg.trace_window_seconds, 0) << window;
  }
  std::vector<std::string> warnings;
  auto cfg = read_config_from({{"COROSCOPE_TRACE_FORMAT", "xml"}}, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "coroscope: warning: COROSCOPE_TRACE_FORMAT='xml' is not perfetto or "
                         "json; using the path's extension");
  EXPECT_EQ(cfg.trace_format, "");
}

// --- The flight recorder ----------------------------------------------------

TEST_F(TraceTest, RingKeepsTheLastStepsOfEachThread) {
  auto cfg = traced("unused.pftrace");
  cfg.clock = "manual";
  cfg.trace_window_steps = 1500;
  reset(cfg);
  auto t = steps(4999, 1000); // 5000 steps
  t.start();
  ASSERT_TRUE(t.done());
  perfetto_trace trace = written("trace.pftrace");
  auto kept = trace.named("steps");
  ASSERT_EQ(kept.size(), 1500u);
  std::set<std::uint64_t> numbers;
  for (const slice *s : kept)
    numbers.insert(arg(*s, "step"));
  EXPECT_EQ(*numbers.begin(), 3500u);
  EXPECT_EQ(*numbers.rbegin(), 4999u);
  EXPECT_EQ(numbers.size(), 1500u) << "no step twice, and no gap";
  const slice &marker = trace.marker();
  EXPECT_EQ(marker.args.at("window"), "1500 steps");
  EXPECT_EQ(arg(marker, "steps"), 1500u);
  EXPECT_EQ(arg(marker, "dropped_by_window"), 3500u);
  EXPECT_EQ(arg(marker, "dropped_by_bound"), 0u);
}

TEST_F(TraceTest, RingKeepsTheLastSeconds) {
  auto cfg = traced("unused.pftrace");
  cfg.clock = "manual";
  cfg.trace_window_seconds = 1;
  reset(cfg);
  auto t = steps(2999, 1'000'000); // 3000 steps, each ends 1 ms after the last
  t.start();
  ASSERT_TRUE(t.done());
  perfetto_trace trace = written("trace.pftrace");
  auto kept = trace.named("steps");
  // Steps that ended in the last second, its first instant included: the
  // steps ending at 1.999 s to 2.999 s, and the last, zero-length one.
  ASSERT_EQ(kept.size(), 1002u);
  const slice &marker = trace.marker();
  for (const slice *s : kept)
    EXPECT_GE(s->end + 1'000'000'000, marker.begin);
  EXPECT_EQ(marker.args.at("window"), "1 s");
  EXPECT_EQ(arg(marker, "dropped_by_window"), 1998u);
  EXPECT_EQ(arg(marker, "dropped_by_bound"), 0u);

  // A thread that goes quiet keeps its ring, but its steps age out of the
  // window.
  coroscope::detail::advance_manual_clock(2'000'000'000);
  trace = written("later.pftrace");
  EXPECT_TRUE(trace.named("steps").empty());
  EXPECT_EQ(arg(trace.marker(), "dropped_by_window"), 3000u);
}

TEST_F(TraceTest, DropsByTheBoundAreCountedApartFromTheWindow) {
  auto cfg = traced("unused.pftrace");
  cfg.clock = "manual";
  cfg.trace_window_steps = 100'000;
  cfg.max_trace_events = 2048; // two chunks: the ring cannot hold its window
  reset(cfg);
  auto t = steps(4999, 1000);
  t.start();
  ASSERT_TRUE(t.done());
  perfetto_trace trace = written("ring.pftrace");
  const slice &marker = trace.marker();
  std::uint64_t kept = trace.named("steps").size();
  EXPECT_GE(kept, 1024u);
  EXPECT_LE(kept, 2048u);
  EXPECT_EQ(arg(marker, "dropped_by_bound"), 5000u - kept) << "the newest steps are kept";
  EXPECT_EQ(arg(marker, "dropped_by_window"), 0u);

  // Without a window the first steps are kept, as always.
  cfg.trace_window_steps = 0;
  cfg.max_trace_events = 1024;
  reset(cfg);
  auto u = steps(2999, 1000);
  u.start();
  ASSERT_TRUE(u.done());
  trace = written("full.pftrace");
  auto first = trace.named("steps");
  ASSERT_EQ(first.size(), 1024u);
  EXPECT_EQ(arg(*first.front(), "step"), 0u);
  EXPECT_EQ(arg(trace.marker(), "dropped_by_bound"), 3000u - 1024u);
}

TEST_F(TraceTest, TriggerWritesTheWindowToTheTracePath) {
  auto cfg = traced("recording-%p.pftrace");
  cfg.trace_window_steps = 2000;
  reset(cfg);
  fs::path path = dir_ / ("recording-" + std::to_string(::getpid()) + ".pftrace");
  run_traced_hop();
  coroscope::detail::trace_trigger("hang");
  perfetto_trace trace;
  ASSERT_TRUE(eventually([&] {
    if (!fs::exists(path))
      return false;
    trace = decode_perfetto(read_file(path)); // files are replaced atomically
    return true;
  }));
  EXPECT_EQ(trace.marker().args.at("reason"), "hang");
  EXPECT_EQ(trace.named("traced_hop").size(), 3u);

  // A later trigger, at most a second after the first, replaces the file.
  run_traced_hop();
  coroscope::detail::trace_trigger("failure");
  ASSERT_TRUE(eventually([&] {
    trace = decode_perfetto(read_file(path));
    return trace.marker().args.at("reason") == "failure";
  }));
  EXPECT_EQ(trace.named("traced_hop").size(), 6u);

  // The last dump, at exit.
  EXPECT_TRUE(coroscope::detail::write_flight_recording(0));
  trace = decode_perfetto(read_file(path));
  EXPECT_EQ(trace.marker().args.at("reason"), "exit");
}

task<> fails_after_a_step() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    throw std::runtime_error("disk on fire");
  }
  COROSCOPE_CATCH
}

task<> waits_long(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

// The tracker's own hang and failure paths ask for a dump, not only a test.
TEST_F(TraceTest, FailureAndHangDumpTheWindow) {
  auto cfg = traced("incident.pftrace");
  cfg.trace_window_steps = 2000;
  cfg.clock = "manual";
  cfg.hang_ms = 100;
  reset(cfg);
  fs::path path = dir_ / "incident.pftrace";
  auto failing = fails_after_a_step();
  failing.start();
  perfetto_trace trace;
  ASSERT_TRUE(eventually([&] {
    if (!fs::exists(path))
      return false;
    trace = decode_perfetto(read_file(path));
    return true;
  }));
  EXPECT_EQ(trace.marker().args.at("reason"), "failure");
  EXPECT_FALSE(trace.named("fails_after_a_step").empty());

  event e;
  auto waiting = waits_long(e);
  waiting.start();
  coroscope::detail::advance_manual_clock(500'000'000);
  e.fire(); // resumes after 500 ms of a 100 ms hang threshold
  ASSERT_TRUE(waiting.done());
  ASSERT_TRUE(eventually([&] {
    trace = decode_perfetto(read_file(path));
    return trace.marker().args.at("reason") == "hang";
  }));
  EXPECT_EQ(trace.named("waits_long").size(), 2u);
}

TEST_F(TraceTest, JsonDumpsSayWhatTheWindowLeftOut) {
  auto cfg = traced("recording.json");
  cfg.clock = "manual";
  cfg.trace_window_steps = 1024;
  reset(cfg);
  auto t = steps(2999, 1000);
  t.start();
  ASSERT_TRUE(t.done());
  ASSERT_TRUE(coroscope::detail::write_flight_recording(SIGTERM));
  nlohmann::json j = nlohmann::json::parse(read_file(dir_ / "recording.json"));
  int kept = 0;
  for (const auto &event : j["traceEvents"])
    kept += event["ph"] == "X";
  EXPECT_EQ(kept, 1024);
  EXPECT_EQ(j["otherData"]["window"], "1024 steps");
  EXPECT_EQ(j["otherData"]["dropped_by_window"], 3000 - 1024);
  EXPECT_EQ(j["otherData"]["reason"], "SIGTERM");
}

task<int> churn_child(thread_pool &pool, int v) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  COROSCOPE_RETURN(v + 1);
}

fire_and_forget churn(thread_pool &pool, std::atomic<int> &left, int i) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  COROSCOPE_AWAIT(churn_child(pool, i));
  left.fetch_sub(1);
  COROSCOPE_RETURN();
}

// Dumps read the rings while pool threads overwrite them: every dump must
// be a valid trace whose slices are whole steps.
TEST_F(TraceTest, DumpsWhileThreadsWriteAreValid) {
  auto cfg = traced("concurrent.pftrace");
  cfg.trace_window_steps = 1500;
  reset(cfg);
  constexpr int kCoroutines = 20'000;
  std::atomic<int> left{kCoroutines};
  std::atomic<bool> stop{false};
  int dumps = 0;
  {
    thread_pool pool(3);
    std::thread reader([&] {
      while (!stop.load()) {
        fs::path path = dir_ / ("dump-" + std::to_string(dumps % 2) + ".pftrace");
        if (!coroscope::write_trace(path.string()))
          break;
        try {
          perfetto_trace trace = decode_perfetto(read_file(path));
          for (const slice &s : trace.slices)
            if (s.name == "churn" || s.name == "churn_child")
              EXPECT_LE(arg(s, "step"), 2u);
        } catch (const bad_trace &e) {
          ADD_FAILURE() << "dump " << dumps << ": " << e.what();
          break;
        }
        ++dumps;
        coroscope::detail::trace_trigger("stress");
      }
    });
    for (int i = 0; i < kCoroutines; ++i)
      churn(pool, left, i);
    EXPECT_TRUE(eventually([&] { return left.load() == 0; }));
    stop = true;
    reader.join();
  }
  EXPECT_GT(dumps, 0);
  perfetto_trace last = written("last.pftrace");
  EXPECT_FALSE(last.slices.empty());
}

} // namespace
