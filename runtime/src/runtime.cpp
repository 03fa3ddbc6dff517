// The tracker's core: configuration, the clock, per-thread state, site
// interning and the coroutine lifecycle (start, end, failure records). The
// per-await path is inline in coroscope.hpp; see tracker.hpp for the layers.
#include "tracker.hpp"

#include "coroscope/debug_layout.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <fstream>
#include <new>
#include <sstream>
#include <typeinfo>

#include <sys/syscall.h>
#include <unistd.h>

namespace coroscope::detail {

// Never destroyed: coroutines may end during static destruction.
runtime &rt() {
  static runtime *instance = [] {
    auto *r = new runtime;
    publish_registry(*r);
    return r;
  }();
  return *instance;
}

std::mutex g_configure_lock;

namespace {

// ---------------------------------------------------------------------------
// Configuration

bool parse_flag(const char *name, const char *text, bool fallback,
                std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  std::string v(text);
  for (char &c : v)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "on" || v == "true" || v == "yes")
    return true;
  if (v == "0" || v == "off" || v == "false" || v == "no")
    return false;
  warnings.push_back(std::string("coroscope: warning: ") + name + "='" + text +
                     "' is not 0/1/on/off; using " + (fallback ? "1" : "0"));
  return fallback;
}

double parse_millis(const char *name, const char *text, double fallback,
                    std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  char *end = nullptr;
  double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0) || value > 1e9) {
    std::ostringstream message;
    message << "coroscope: warning: " << name << "='" << text
            << "' is not a positive number of milliseconds; using " << fallback;
    warnings.push_back(message.str());
    return fallback;
  }
  return value;
}

std::size_t parse_count(const char *name, const char *text, std::size_t fallback,
                        std::vector<std::string> &warnings) {
  if (text == nullptr || *text == '\0')
    return fallback;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || text[0] == '-') {
    warnings.push_back(std::string("coroscope: warning: ") + name + "='" + text +
                       "' is not a count; using " + std::to_string(fallback));
    return fallback;
  }
  return static_cast<std::size_t>(value);
}

// ---------------------------------------------------------------------------
// The clock

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

void zero(histogram &h) {
  h.count.value.store(0);
  h.sum_ns.value.store(0);
  h.max_ns.value.store(0);
  h.min_plus_one.value.store(0);
  for (counter &b : h.buckets)
    b.value.store(0);
}

} // namespace

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

void apply_config(const config &cfg) {
  runtime &r = rt();
  stop_watchdog();
  stop_flight_recorder();
  r.cfg = cfg;
  if (!cfg.enabled) {
    g_gate.store(2, std::memory_order_relaxed);
    return;
  }
  choose_clock(cfg.clock);
  r.start_ticks = now_ticks();
  r.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  r.start_time = std::chrono::steady_clock::now();
  g_slow_ticks.store(ms_to_ticks(cfg.slow_ms), std::memory_order_relaxed);
  g_hang_ticks.store(ms_to_ticks(cfg.hang_ms), std::memory_order_relaxed);
  configure_trace(cfg);
  if (cfg.signal)
    install_dump_signal();
  if (cfg.watchdog || cfg.signal)
    start_watchdog();
  install_process_hooks();
  g_gate.store(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Logging, rate-limited: at most 10 lines a second, with a count of the rest.

void log_line(const std::string &line) {
  runtime &r = rt();
  std::lock_guard guard(r.log_lock);
  auto second = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now() - r.start_time)
                    .count();
  if (second != r.log_second) {
    if (r.suppressed_in_second != 0)
      std::fprintf(stderr, "coroscope: %llu similar reports suppressed in the previous second\n",
                   static_cast<unsigned long long>(r.suppressed_in_second));
    r.log_second = second;
    r.logs_in_second = 0;
    r.suppressed_in_second = 0;
  }
  if (r.logs_in_second >= 10) {
    ++r.suppressed_in_second;
    r.drop_log.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++r.logs_in_second;
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string format_ms(double ms) {
  char buffer[32];
  if (ms >= 1000)
    std::snprintf(buffer, sizeof buffer, "%.2f s", ms / 1000);
  else
    std::snprintf(buffer, sizeof buffer, "%.1f ms", ms);
  return buffer;
}

// ---------------------------------------------------------------------------
// Describing frames

report::location location_of(const site *where, const site *body) {
  report::location l;
  if (where == nullptr)
    return l;
  const char *function = where->function != nullptr ? where->function
                         : body != nullptr          ? body->function
                                                    : nullptr;
  l.function = function != nullptr ? function : "";
  l.file = where->file != nullptr ? where->file : "";
  l.line = where->line;
  l.column = where->column;
  return l;
}

const char *state_name(std::uint8_t s) {
  const char *name = coroscope::state_name(static_cast<coroscope::state>(s));
  return name != nullptr ? name : "unknown";
}

std::string frame_name(const frame &f) {
  if (f.name_[0] != '\0')
    return f.name_;
  // Where it was created, else where it started.
  const site *from = f.creation_site_ != nullptr ? f.creation_site_ : f.start_site_;
  if (from == nullptr || from->file == nullptr)
    return "";
  const char *file = std::strrchr(from->file, '/');
  std::string text = "from ";
  text += file != nullptr ? file + 1 : from->file;
  text += ':';
  text += std::to_string(from->line);
  return text;
}

std::string display_name(const frame &f) {
  report::coroutine c;
  c.body.function = f.body_ != nullptr && f.body_->function != nullptr ? f.body_->function : "?";
  c.name = frame_name(f);
  c.named = f.name_[0] != '\0';
  return report::display_name(c);
}

std::string demangle(const char *name) {
  int status = 0;
  char *readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string text = status == 0 && readable != nullptr ? readable : name;
  std::free(readable);
  return text;
}

// ---------------------------------------------------------------------------
// Threads, sites and the lifecycle

thread_record *record_of(thread_state &state) {
  return static_cast<thread_record *>(state.owner);
}

void zero(site_stats &s) {
  for (counter *c : {&s.count, &s.finished, &s.failed, &s.cancelled, &s.abandoned, &s.never_started, &s.slow_steps, &s.running_ns,
                     &s.suspended_ns, &s.suspensions, &s.cross_thread_resumptions})
    c->value.store(0);
  zero(s.wait);
  zero(s.step);
}

bool configure_runtime() noexcept {
  std::lock_guard guard(g_configure_lock);
  if (g_gate.load() != 0)
    return g_gate.load() == 1;
  try {
    std::vector<std::string> warnings;
    config cfg = read_config([](const char *name) { return std::getenv(name); }, warnings);
    for (const std::string &w : warnings)
      std::fprintf(stderr, "%s\n", w.c_str());
    apply_config(cfg);
  } catch (...) {
    g_gate.store(2);
  }
  return g_gate.load() == 1;
}

config read_config(const std::function<const char *(const char *)> &getenv,
                   std::vector<std::string> &warnings) {
  config cfg;
  cfg.enabled = parse_flag("COROSCOPE", getenv("COROSCOPE"), true, warnings);
  cfg.slow_ms = parse_millis("COROSCOPE_SLOW_MS", getenv("COROSCOPE_SLOW_MS"), cfg.slow_ms, warnings);
  cfg.hang_ms = parse_millis("COROSCOPE_HANG_MS", getenv("COROSCOPE_HANG_MS"), cfg.hang_ms, warnings);
  cfg.watchdog = parse_flag("COROSCOPE_WATCHDOG", getenv("COROSCOPE_WATCHDOG"), false, warnings);
  cfg.signal = parse_flag("COROSCOPE_SIGNAL", getenv("COROSCOPE_SIGNAL"), false, warnings);
  cfg.summary = parse_flag("COROSCOPE_SUMMARY", getenv("COROSCOPE_SUMMARY"), false, warnings);
  if (const char *path = getenv("COROSCOPE_REPORT"))
    cfg.report_path = path;
  if (const char *path = getenv("COROSCOPE_TRACE"))
    cfg.trace_path = path;
  if (const char *clock = getenv("COROSCOPE_CLOCK"); clock != nullptr && *clock != '\0') {
    std::string v = clock;
    if (v == "auto" || v == "tsc" || v == "steady")
      cfg.clock = v;
    else
      warnings.push_back("coroscope: warning: COROSCOPE_CLOCK='" + v +
                         "' is not auto, tsc or steady; using auto");
  }
  cfg.max_records = parse_count("COROSCOPE_MAX_RECORDS", getenv("COROSCOPE_MAX_RECORDS"),
                                cfg.max_records, warnings);
  cfg.max_trace_events = parse_count("COROSCOPE_TRACE_EVENTS", getenv("COROSCOPE_TRACE_EVENTS"),
                                     cfg.max_trace_events, warnings);
  read_trace_config(getenv, cfg, warnings);
  cfg.max_site_blocks = parse_count("COROSCOPE_MAX_SITES", getenv("COROSCOPE_MAX_SITES"),
                                    cfg.max_site_blocks, warnings);
  return cfg;
}

thread_state *make_thread_state() noexcept {
  static thread_record overflow; // used only when memory runs out
  auto *record = new (std::nothrow) thread_record;
  if (record == nullptr) {
    g_gate.store(2, std::memory_order_relaxed);
    overflow.state.owner = &overflow;
    t_state = &overflow.state;
    return t_state;
  }
  runtime &r = rt();
  record->state.owner = record;
  record->state.index = r.next_thread.fetch_add(1, std::memory_order_relaxed);
  record->trace_tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)),
                          std::memory_order_relaxed);
  try {
    std::lock_guard guard(r.registry_lock);
    r.threads.push_back(record);
    record->published_next = r.published_threads.load(std::memory_order_relaxed);
    r.published_threads.store(record, std::memory_order_release);
  } catch (...) {
  }
  t_state = &record->state;
  return t_state;
}

site_stats *intern_site(thread_state &thread, const site *where) noexcept {
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  site_stats *stats = nullptr;
  try {
    auto found = record.sites.find(where);
    if (found != record.sites.end()) {
      stats = found->second;
    } else if (r.site_blocks.fetch_add(1, std::memory_order_relaxed) <
               static_cast<std::int64_t>(r.cfg.max_site_blocks)) {
      stats = new site_stats;
      stats->where = where;
      record.sites.emplace(where, stats);
      stats->next_in_thread = record.site_list.load(std::memory_order_relaxed);
      record.site_list.store(stats, std::memory_order_release);
    }
  } catch (...) {
    stats = nullptr;
  }
  if (stats == nullptr) {
    // Out of blocks: count the event as dropped and write it nowhere useful.
    r.drop_sites.fetch_add(1, std::memory_order_relaxed);
    thread_local site_stats sink;
    return &sink;
  }
  auto slot = (reinterpret_cast<std::uintptr_t>(where) >> 4) & (kSiteCacheSize - 1);
  thread.cache[slot] = {where, stats};
  return stats;
}

namespace {

void count_edge(thread_record &record, const site *parent, const site *child, bool awaited) {
  runtime &r = rt();
  edge_key key{parent, child, awaited};
  auto found = record.edges.find(key);
  edge_stats *edge = found != record.edges.end() ? found->second : nullptr;
  if (edge == nullptr) {
    if (r.site_blocks.fetch_add(1, std::memory_order_relaxed) >=
        static_cast<std::int64_t>(r.cfg.max_site_blocks)) {
      r.drop_sites.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    edge = new edge_stats;
    edge->parent = parent;
    edge->child = child;
    edge->awaited = awaited;
    record.edges.emplace(key, edge);
    edge->next_in_thread = record.edge_list.load(std::memory_order_relaxed);
    record.edge_list.store(edge, std::memory_order_release);
  }
  edge->count.add(1);
}

// "handle_request at server.cpp:40:7": an entry of a failure's path.
std::string where_it_failed(const frame &f) {
  return display_name(f) + " at " +
         location_of(f.site_.load(std::memory_order_relaxed), f.body_).where();
}

// Keeps the record of a failure that is not the continuation of one that
// ended earlier on this thread; returns its index, or SIZE_MAX.
std::size_t keep_failure(frame &f, std::int64_t now) {
  runtime &r = rt();
  {
    std::lock_guard guard(r.records_lock);
    if (r.failures.size() >= r.cfg.max_records) {
      r.drop_failures.fetch_add(1, std::memory_order_relaxed);
      return SIZE_MAX;
    }
  }
  report::coroutine c;
  {
    std::lock_guard guard(r.shards[f.shard_].lock);
    c = describe(f, now);
  }
  c.state = state_name(static_cast<std::uint8_t>(state::failed));
  if (f.failure_ != nullptr) {
    c.exception_type = f.failure_->type;
    c.exception_what = f.failure_->what;
  } else {
    c.exception_type = "(not captured: the body has no COROSCOPE_CATCH)";
  }
  c.parents = parent_chain(f.parent_id_);
  std::lock_guard guard(r.records_lock);
  if (r.failures.size() >= r.cfg.max_records) {
    r.drop_failures.fetch_add(1, std::memory_order_relaxed);
    return SIZE_MAX;
  }
  r.failures.push_back(std::move(c));
  return r.failures.size() - 1;
}

void keep_cancelled(frame &f, std::int64_t now, state outcome) {
  runtime &r = rt();
  {
    std::lock_guard guard(r.records_lock);
    if (r.cancelled.size() >= r.cfg.max_records) {
      r.drop_cancelled.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  report::coroutine c;
  {
    std::lock_guard guard(r.shards[f.shard_].lock);
    c = describe(f, now);
  }
  c.state = state_name(static_cast<std::uint8_t>(outcome));
  c.parents = parent_chain(f.parent_id_);
  std::lock_guard guard(r.records_lock);
  push_bounded(r.cancelled, std::move(c), r.drop_cancelled);
}

// The shard's generation is odd while its list changes; the caller holds
// the shard's lock.
void begin_list_change(shard &s) {
  s.generation.store(s.generation.load(std::memory_order_relaxed) + 1,
                     std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void end_list_change(shard &s) {
  s.generation.store(s.generation.load(std::memory_order_relaxed) + 1,
                     std::memory_order_release);
}

// What a reader outside the process checks a record against.
std::uint64_t check_of(const frame &f) {
  return debug_layout::record_check(f.id_, reinterpret_cast<std::uintptr_t>(&f), f.name_version_);
}

void unlink(frame &f) {
  shard &s = rt().shards[f.shard_];
  begin_list_change(s);
  f.check_.store(0, std::memory_order_relaxed);
  if (f.prev_ != nullptr)
    f.prev_->next_ = f.next_;
  else
    s.head = f.next_;
  if (f.next_ != nullptr)
    f.next_->prev_ = f.prev_;
  end_list_change(s);
}

std::int64_t seconds_since_start() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                          rt().start_time)
      .count();
}

} // namespace

void begin_coroutine(frame &f, const site *body) noexcept {
  thread_state &thread = *this_thread();
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  if (r.restart_pending.load(std::memory_order_relaxed)) [[unlikely]]
    restart_after_fork();
  if (thread.next_id == thread.id_limit) {
    thread.next_id = r.next_id_block.fetch_add(1024, std::memory_order_relaxed) + 1;
    thread.id_limit = thread.next_id + 1024;
  }
  std::int64_t now = now_ticks();
  f.body_ = body;
  f.id_ = thread.next_id++;
  // The parent: the coroutine that just suspended here to await a child,
  // or else the one running on this thread, which spawns this one.
  if (thread.pending_awaiter != 0) {
    f.parent_id_ = thread.pending_awaiter;
    f.parent_body_ = thread.pending_body;
    f.start_site_ = thread.pending_site;
    f.awaited_ = true;
    f.parent_suspensions_ = thread.pending_suspensions;
    r.adopted[thread.pending_awaiter % runtime::kAdoptedSlots].store(
        adoption_key(thread.pending_awaiter, thread.pending_suspensions),
        std::memory_order_relaxed);
  } else if (thread.current != nullptr) {
    f.parent_id_ = thread.current->id_;
    f.parent_body_ = thread.current->body_;
    f.start_site_ = thread.current->site_.load(std::memory_order_relaxed);
  }
  record_creator(f, thread);
  thread.pending_awaiter = 0;
  // A failure that ended on this thread can no longer reach its awaiter
  // through here: something else runs.
  record.last_failure = {};
  try {
    if (f.parent_body_ != nullptr)
      count_edge(record, f.parent_body_, body, f.awaited_);
  } catch (...) {
  }
  f.state_.store(static_cast<std::uint8_t>(state::running), std::memory_order_relaxed);
  f.site_.store(body, std::memory_order_relaxed);
  f.since_.store(now, std::memory_order_relaxed);
  f.start_ticks_ = now;
  f.start_thread_ = f.suspend_thread_ = thread.index;
  f.uncaught_at_start_ = std::uncaught_exceptions();
  f.resumer_ = thread.current;
  thread.current = &f;
  stats_for(thread, body)->count.add(1);
  f.shard_ = thread.index % kShards;
  shard &s = r.shards[f.shard_];
  std::lock_guard guard(s.lock);
  begin_list_change(s);
  f.check_.store(check_of(f), std::memory_order_relaxed);
  f.next_ = s.head;
  if (s.head != nullptr)
    s.head->prev_ = &f;
  s.head = &f;
  end_list_change(s);
  s.recent.add(seconds_since_start(), 0);
}

void end_coroutine(frame &f) noexcept {
  thread_state &thread = *this_thread();
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  if (inherited_from_parent(f)) [[unlikely]] {
    // A forked child ends its parent's coroutine: not the child's to count.
    thread.current = f.resumer_;
    delete f.failure_;
    f.failure_ = nullptr;
    std::lock_guard guard(r.shards[f.shard_].lock);
    unlink(f);
    f.body_ = nullptr;
    return;
  }
  std::int64_t now = now_ticks();
  site_stats *stats = stats_for(thread, f.body_);
  // An exception leaving the body is recorded by its handler; without one
  // (hand instrumentation), an exception in flight is the best evidence.
  // An instrumented frame destroyed during another exception's unwinding
  // was only destroyed.
  bool failed = f.failure_ != nullptr ||
                (!f.body_->records_exceptions && std::uncaught_exceptions() > f.uncaught_at_start_);
  const site *at = waiting_at(f);
  bool at_last_yield = at != nullptr && at->kind == site_kind::last_yield;
  state outcome = failed                          ? state::failed
                  : f.returned_ || at_last_yield ? state::finished
                  : is_yield(at)                  ? state::abandoned
                                                  : state::cancelled;
  std::int64_t began = f.since_.load(std::memory_order_relaxed);
  // Destroyed while suspended: it has no last step.
  if (f.returned_ || failed)
    f.end_step(thread, stats, f.body_, began, now, false);
  stats->wait.record(ticks_to_ns(now - f.start_ticks_));
  (outcome == state::finished    ? stats->finished
   : outcome == state::failed    ? stats->failed
   : outcome == state::abandoned ? stats->abandoned
                                 : stats->cancelled)
      .add(1);
  stats->running_ns.add(f.running_ns_.load(std::memory_order_relaxed));
  stats->suspended_ns.add(f.suspended_ns_.load(std::memory_order_relaxed));
  stats->suspensions.add(f.suspensions_.load(std::memory_order_relaxed));
  stats->cross_thread_resumptions.add(f.cross_thread_.load(std::memory_order_relaxed));
  thread.current = f.resumer_;
  thread.pending_awaiter = 0;
  if (f.awaited_)
    thread.ended_child_of = adoption_key(f.parent_id_, f.parent_suspensions_);

  try {
    if (outcome == state::failed) {
      std::exception_ptr exception =
          f.failure_ != nullptr ? f.failure_->exception : std::exception_ptr();
      std::size_t index = SIZE_MAX;
      if (f.failure_ != nullptr && f.failure_->propagated) {
        // The awaited child's failure, rethrown here: one failure, one
        // record, with this frame on its path.
        index = record.last_failure.record;
        if (index != SIZE_MAX) {
          std::string step = where_it_failed(f);
          std::lock_guard guard(r.records_lock);
          if (index < r.failures.size())
            r.failures[index].propagated_to.push_back(std::move(step));
        }
      } else {
        r.failure_total.fetch_add(1, std::memory_order_relaxed);
        index = keep_failure(f, now);
      }
      record.last_failure = {};
      if (f.awaited_ && exception)
        record.last_failure = {f.parent_id_, std::move(exception), index};
    } else {
      if (record.last_failure.awaiter == f.id_)
        record.last_failure = {}; // it caught its child's exception
      if (outcome != state::finished)
        keep_cancelled(f, now, outcome);
    }
  } catch (...) {
  }
  delete f.failure_;
  f.failure_ = nullptr;

  shard &s = r.shards[f.shard_];
  std::lock_guard guard(s.lock);
  unlink(f);
  f.state_.store(static_cast<std::uint8_t>(outcome), std::memory_order_relaxed);
  s.recent.add(seconds_since_start(), outcome == state::finished ? 1
                                      : outcome == state::failed ? 2
                                                                 : 3);
  f.body_ = nullptr;
}

void record_failure(frame &f) noexcept {
  if (f.failure_ != nullptr)
    return;
  auto *failure = new (std::nothrow) failure_record;
  if (failure == nullptr)
    return;
  try {
    if (const std::type_info *type = abi::__cxa_current_exception_type())
      failure->type = demangle(type->name());
    failure->exception = std::current_exception();
    try {
      throw;
    } catch (const std::exception &e) {
      failure->what = e.what();
    } catch (...) {
    }
    pending_failure &last = record_of(*this_thread())->last_failure;
    failure->propagated = last.awaiter == f.id_ && last.exception && last.exception == failure->exception;
  } catch (...) {
  }
  f.failure_ = failure;
  if (!failure->propagated)
    trace_trigger("failure");
}

void name_frame(frame &f, std::string_view name) noexcept {
  shard &s = rt().shards[f.shard_];
  std::lock_guard guard(s.lock);
  // A reader outside must not take half a name for the record's.
  begin_list_change(s);
  f.check_.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::size_t n = std::min(name.size(), sizeof f.name_ - 1);
  std::memcpy(f.name_, name.data(), n);
  f.name_[n] = '\0';
  ++f.name_version_;
  f.check_.store(check_of(f), std::memory_order_release);
  end_list_change(s);
}

} // namespace coroscope::detail

void coroscope_never_started(const coroscope::site *body) noexcept {
  using namespace coroscope::detail;
  if (body == nullptr || !tracking())
    return;
  try {
    stats_for(*this_thread(), body)->never_started.add(1);
    runtime &r = rt();
    {
      std::lock_guard guard(r.records_lock);
      if (!r.never_started_logged.insert(body).second)
        return;
    }
    coroscope::report::location where = location_of(body, body);
    log_line("coroscope: never started: a coroutine of '" + where.function + "' (" + where.where() +
             ") was destroyed before its body ran; a lazy task that is never awaited does nothing");
  } catch (...) {
  }
}

namespace coroscope::detail {

void zero_thread(thread_record &t) {
  for (site_stats *s = t.site_list.load(); s != nullptr; s = s->next_in_thread)
    zero(*s);
  for (edge_stats *e = t.edge_list.load(); e != nullptr; e = e->next_in_thread)
    e->count.value.store(0);
  t.last_failure = {};
}

void forget_records_unlocked() {
  runtime &r = rt();
  r.slow_steps.clear();
  r.hangs.clear();
  r.queued.clear();
  r.never_started_logged.clear();
  r.failures.clear();
  r.cancelled.clear();
  for (auto *counter : {&r.slow_total, &r.hang_total, &r.queued_total, &r.failure_total,
                        &r.drop_sites, &r.drop_slow, &r.drop_hangs, &r.drop_failures,
                        &r.drop_cancelled, &r.drop_trace, &r.drop_log})
    counter->store(0);
  for (auto &slot : r.adopted)
    slot.store(0);
  for (shard &s : r.shards)
    s.recent = minute_ring{};
  r.log_second = -1;
}

void reset_for_testing(const config &cfg) {
  runtime &r = rt();
  {
    std::lock_guard guard(g_configure_lock);
    apply_config(cfg);
  }
  {
    std::lock_guard guard(r.registry_lock);
    for (thread_record *t : r.threads)
      zero_thread(*t);
  }
  std::scoped_lock guard(r.records_lock, r.log_lock);
  forget_records_unlocked();
}

} // namespace coroscope::detail

namespace coroscope {

void name_current(std::string_view name) noexcept {
  if (frame *f = current())
    f->set_name(name);
}

} // namespace coroscope
