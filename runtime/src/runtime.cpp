// The tracker's slow paths: configuration, the live-coroutine registry,
// lifecycle records, slow steps, hangs, the watchdog, async stacks, reports
// and the trace. The per-await path is inline in coroscope.hpp.
#include "coroscope/coroscope.hpp"
#include "coroscope/report.hpp"
#include "coroscope/testing.hpp"
#include "json.hpp"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <thread>
#include <typeinfo>
#include <unistd.h>
#include <unordered_map>

namespace coroscope::detail {

struct failure_record {
  std::string type, what;
};

namespace {

constexpr int kShards = 16;
constexpr std::uint32_t kTraceChunkEvents = 1024;

struct step_record {
  std::int64_t begin, end;
  std::uint64_t coroutine;
  const site *body, *from, *to;
  std::uint32_t step;
  bool suspended;
};

struct trace_chunk {
  std::atomic<std::uint32_t> size{0};
  std::atomic<trace_chunk *> next{nullptr};
  step_record events[kTraceChunkEvents];
};

// Per-second lifecycle counts for the last minute, kept per shard.
struct minute_ring {
  std::int64_t second[60] = {};
  std::uint64_t counts[60][4] = {}; // started, finished, failed, cancelled
  void add(std::int64_t now_second, int what) {
    auto slot = static_cast<std::size_t>(now_second % 60);
    if (second[slot] != now_second) {
      second[slot] = now_second;
      std::fill(std::begin(counts[slot]), std::end(counts[slot]), 0);
    }
    ++counts[slot][what];
  }
};

struct shard {
  std::mutex lock;
  frame *head = nullptr;
  minute_ring recent;
};

// Everything one thread owns. Records outlive their threads, so reports keep
// the statistics of threads that have exited.
struct thread_record {
  thread_state state;
  std::unordered_map<const site *, site_stats *> sites; // owner thread only
  std::atomic<site_stats *> site_list{nullptr};         // published for readers
  trace_chunk *trace_first = nullptr;
  std::atomic<trace_chunk *> trace_head{nullptr};
  trace_chunk *trace_tail = nullptr;
};

struct runtime {
  config cfg;
  std::mutex registry_lock; // threads
  std::vector<thread_record *> threads;
  std::atomic<std::uint32_t> next_thread{1};
  std::atomic<std::uint64_t> next_id_block{0};
  std::atomic<std::int64_t> site_blocks{0};
  shard shards[kShards];

  std::mutex records_lock; // the bounded lists
  std::vector<report::slow_step> slow_steps;
  std::vector<report::hang> hangs;
  std::vector<report::coroutine> failures, cancelled;
  std::atomic<std::uint64_t> slow_total{0}, hang_total{0};

  std::atomic<std::int64_t> trace_budget{0};
  std::atomic<std::uint64_t> drop_sites{0}, drop_slow{0}, drop_hangs{0}, drop_failures{0},
      drop_cancelled{0}, drop_trace{0}, drop_log{0};
  std::atomic<std::uint64_t> live_dropped{0};

  std::int64_t start_ticks = 0;
  std::chrono::steady_clock::time_point start_time = std::chrono::steady_clock::now();

  std::mutex log_lock;
  std::int64_t log_second = -1;
  int logs_in_second = 0;
  std::uint64_t suppressed_in_second = 0;

  std::mutex watchdog_lock;
  std::condition_variable watchdog_wake;
  std::thread watchdog;
  bool watchdog_stop = false;

  bool exit_registered = false;
};

// Never destroyed: coroutines may end during static destruction.
runtime &rt() {
  static runtime *instance = new runtime;
  return *instance;
}

std::atomic<bool> g_dump_requested{false};
std::mutex g_configure_lock;

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

std::int64_t ms_to_ticks(double ms) {
  return static_cast<std::int64_t>(ms * 1e6 / g_ns_per_tick.load(std::memory_order_relaxed));
}

double ticks_to_ms_since_start(std::int64_t ticks) {
  return double(ticks - rt().start_ticks) * g_ns_per_tick.load(std::memory_order_relaxed) / 1e6;
}

void stop_watchdog();
void start_watchdog();
void at_exit_handler();

void signal_handler(int) { g_dump_requested.store(true, std::memory_order_relaxed); }

void apply_config(const config &cfg) {
  runtime &r = rt();
  stop_watchdog();
  r.cfg = cfg;
  if (!cfg.enabled) {
    g_gate.store(2, std::memory_order_relaxed);
    return;
  }
  choose_clock(cfg.clock);
  r.start_ticks = now_ticks();
  r.start_time = std::chrono::steady_clock::now();
  g_slow_ticks.store(ms_to_ticks(cfg.slow_ms), std::memory_order_relaxed);
  g_hang_ticks.store(ms_to_ticks(cfg.hang_ms), std::memory_order_relaxed);
  r.trace_budget.store(static_cast<std::int64_t>(cfg.max_trace_events), std::memory_order_relaxed);
  g_trace_on.store(!cfg.trace_path.empty(), std::memory_order_relaxed);
  if (cfg.signal) {
    struct sigaction action {};
    action.sa_handler = signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &action, nullptr);
  }
  if (cfg.watchdog || cfg.signal)
    start_watchdog();
  if (!r.exit_registered) {
    r.exit_registered = true;
    std::atexit(at_exit_handler);
  }
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
  switch (static_cast<coroscope::state>(s)) {
  case state::running: return "running";
  case state::suspended: return "suspended";
  case state::finished: return "finished";
  case state::failed: return "failed";
  case state::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string display_name(const frame &f) {
  std::string text = f.body_ != nullptr && f.body_->function != nullptr ? f.body_->function : "?";
  if (f.name_[0] != '\0')
    text += std::string(" \"") + f.name_ + "\"";
  return text;
}

// Reads a frame; the caller holds the frame's shard lock (or owns it).
report::coroutine describe(const frame &f, std::int64_t now) {
  report::coroutine c;
  c.id = f.id_;
  c.parent = f.parent_id_;
  c.name = f.name_;
  c.state = state_name(f.state_.load(std::memory_order_relaxed));
  c.body = location_of(f.body_, f.body_);
  c.site = location_of(f.site_.load(std::memory_order_relaxed), f.body_);
  c.age_ns = ticks_to_ns(now - f.start_ticks_);
  c.in_state_ns = ticks_to_ns(now - f.since_.load(std::memory_order_relaxed));
  c.running_ns = f.running_ns_.load(std::memory_order_relaxed);
  c.suspended_ns = f.suspended_ns_.load(std::memory_order_relaxed);
  c.max_step_ns = f.max_step_ns_.load(std::memory_order_relaxed);
  c.suspensions = f.suspensions_.load(std::memory_order_relaxed);
  c.cross_thread_resumptions = f.cross_thread_.load(std::memory_order_relaxed);
  c.max_step_from = location_of(f.max_step_from_.load(std::memory_order_relaxed), f.body_);
  c.max_step_to = location_of(f.max_step_to_.load(std::memory_order_relaxed), f.body_);
  return c;
}

// Every live coroutine, described under the shard locks.
std::vector<report::coroutine> live_coroutines(std::size_t limit, std::uint64_t *dropped,
                                               std::uint64_t *running, std::uint64_t *suspended) {
  runtime &r = rt();
  std::vector<report::coroutine> out;
  std::int64_t now = now_ticks();
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_) {
      auto st = static_cast<coroscope::state>(f->state_.load(std::memory_order_relaxed));
      if (running != nullptr && st == state::running)
        ++*running;
      if (suspended != nullptr && st == state::suspended)
        ++*suspended;
      if (out.size() < limit)
        out.push_back(describe(*f, now));
      else if (dropped != nullptr)
        ++*dropped;
    }
  }
  return out;
}

std::string chain_entry(const report::coroutine &c) {
  std::string text = c.body.function;
  if (!c.name.empty())
    text += " \"" + c.name + "\"";
  text += " [" + c.state + "] at " + c.site.where();
  return text;
}

// The await chain above `parent`: the coroutines awaiting one another.
std::vector<std::string> parent_chain(std::uint64_t parent) {
  std::vector<std::string> chain;
  if (parent == 0)
    return chain;
  std::vector<report::coroutine> live = live_coroutines(SIZE_MAX, nullptr, nullptr, nullptr);
  std::unordered_map<std::uint64_t, const report::coroutine *> by_id;
  for (const report::coroutine &c : live)
    by_id[c.id] = &c;
  for (int depth = 0; parent != 0 && depth < 64; ++depth) {
    auto found = by_id.find(parent);
    if (found == by_id.end()) {
      chain.push_back("#" + std::to_string(parent) + " (already ended)");
      break;
    }
    chain.push_back(chain_entry(*found->second));
    parent = found->second->parent;
  }
  return chain;
}

template <typename T>
void push_bounded(std::vector<T> &list, T item, std::atomic<std::uint64_t> &dropped) {
  if (list.size() < rt().cfg.max_records)
    list.push_back(std::move(item));
  else
    dropped.fetch_add(1, std::memory_order_relaxed);
}

std::string demangle(const char *name) {
  int status = 0;
  char *readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string text = status == 0 && readable != nullptr ? readable : name;
  std::free(readable);
  return text;
}

// ---------------------------------------------------------------------------
// Threads and sites


thread_record *record_of(thread_state &state) {
  return static_cast<thread_record *>(state.owner);
}

void zero(histogram &h) {
  h.count.value.store(0);
  h.sum_ns.value.store(0);
  h.max_ns.value.store(0);
  for (counter &b : h.buckets)
    b.value.store(0);
}

void zero(site_stats &s) {
  for (counter *c : {&s.count, &s.finished, &s.failed, &s.cancelled, &s.slow_steps, &s.running_ns,
                     &s.suspended_ns, &s.suspensions, &s.cross_thread_resumptions})
    c->value.store(0);
  zero(s.wait);
  zero(s.step);
}

} // namespace

bool configure_on_first_use() noexcept {
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
  try {
    std::lock_guard guard(r.registry_lock);
    r.threads.push_back(record);
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

void begin_coroutine(frame &f, const site *body) noexcept {
  thread_state &thread = *this_thread();
  runtime &r = rt();
  if (thread.next_id == thread.id_limit) {
    thread.next_id = r.next_id_block.fetch_add(1024, std::memory_order_relaxed) + 1;
    thread.id_limit = thread.next_id + 1024;
  }
  std::int64_t now = now_ticks();
  f.body_ = body;
  f.id_ = thread.next_id++;
  f.parent_id_ = thread.pending_awaiter != 0 ? thread.pending_awaiter
                 : thread.current != nullptr  ? thread.current->id_
                                              : 0;
  thread.pending_awaiter = 0;
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
  f.next_ = s.head;
  if (s.head != nullptr)
    s.head->prev_ = &f;
  s.head = &f;
  s.recent.add(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                r.start_time)
                   .count(),
               0);
}

void end_coroutine(frame &f) noexcept {
  thread_state &thread = *this_thread();
  runtime &r = rt();
  std::int64_t now = now_ticks();
  site_stats *stats = stats_for(thread, f.body_);
  bool failed = f.failure_ != nullptr || std::uncaught_exceptions() > f.uncaught_at_start_;
  state outcome = failed ? state::failed : f.returned_ ? state::finished : state::cancelled;
  std::int64_t began = f.since_.load(std::memory_order_relaxed);
  // A cancelled coroutine was destroyed while suspended: it has no last step.
  if (outcome != state::cancelled)
    f.end_step(thread, stats, f.body_, began, now, false);
  stats->wait.record(ticks_to_ns(now - f.start_ticks_));
  (outcome == state::finished ? stats->finished
   : outcome == state::failed ? stats->failed
                              : stats->cancelled)
      .add(1);
  stats->running_ns.add(f.running_ns_.load(std::memory_order_relaxed));
  stats->suspended_ns.add(f.suspended_ns_.load(std::memory_order_relaxed));
  stats->suspensions.add(f.suspensions_.load(std::memory_order_relaxed));
  stats->cross_thread_resumptions.add(f.cross_thread_.load(std::memory_order_relaxed));
  thread.current = f.resumer_;
  thread.pending_awaiter = 0;

  try {
    if (outcome != state::finished) {
      bool keep;
      {
        std::lock_guard guard(r.records_lock);
        keep = (outcome == state::failed ? r.failures.size() : r.cancelled.size()) <
               r.cfg.max_records;
      }
      if (keep) {
        report::coroutine c;
        {
          std::lock_guard guard(r.shards[f.shard_].lock);
          c = describe(f, now);
        }
        c.state = state_name(static_cast<std::uint8_t>(outcome));
        if (outcome == state::failed) {
          if (f.failure_ != nullptr) {
            c.exception_type = f.failure_->type;
            c.exception_what = f.failure_->what;
          } else {
            c.exception_type = "(not captured: the body has no COROSCOPE_CATCH)";
          }
        }
        c.parents = parent_chain(f.parent_id_);
        std::lock_guard guard(r.records_lock);
        push_bounded(outcome == state::failed ? r.failures : r.cancelled, std::move(c),
                     outcome == state::failed ? r.drop_failures : r.drop_cancelled);
      } else {
        (outcome == state::failed ? r.drop_failures : r.drop_cancelled)
            .fetch_add(1, std::memory_order_relaxed);
      }
    }
  } catch (...) {
  }
  delete f.failure_;
  f.failure_ = nullptr;

  shard &s = r.shards[f.shard_];
  std::lock_guard guard(s.lock);
  f.state_.store(static_cast<std::uint8_t>(outcome), std::memory_order_relaxed);
  if (f.prev_ != nullptr)
    f.prev_->next_ = f.next_;
  else
    s.head = f.next_;
  if (f.next_ != nullptr)
    f.next_->prev_ = f.prev_;
  s.recent.add(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                r.start_time)
                   .count(),
               outcome == state::finished ? 1
               : outcome == state::failed ? 2
                                          : 3);
  f.body_ = nullptr;
}

void on_slow_step(frame &f, const site *to, std::int64_t begin, std::int64_t end) noexcept {
  runtime &r = rt();
  try {
    r.slow_total.fetch_add(1, std::memory_order_relaxed);
    stats_for(*this_thread(), f.body_)->slow_steps.add(1);
    report::slow_step step;
    step.coroutine = f.id_;
    step.name = f.name_;
    step.from = location_of(f.site_.load(std::memory_order_relaxed), f.body_);
    step.to = location_of(to, f.body_);
    step.thread = this_thread()->index;
    step.duration_ns = ticks_to_ns(end - begin);
    step.at_ms = ticks_to_ms_since_start(begin);
    bool seen_running = f.watchdog_mark_.load() ==
                        2 * std::uint64_t(f.suspensions_.load(std::memory_order_relaxed)) + 1;
    {
      std::lock_guard guard(r.records_lock);
      bool updated = false;
      if (seen_running)
        for (auto it = r.slow_steps.rbegin(); it != r.slow_steps.rend(); ++it)
          if (it->coroutine == f.id_ && it->in_progress) {
            *it = step;
            updated = true;
            r.slow_total.fetch_sub(1, std::memory_order_relaxed);
            break;
          }
      if (!updated)
        push_bounded(r.slow_steps, step, r.drop_slow);
    }
    log_line("coroscope: slow step: '" + display_name(f) + "' (coroutine #" +
             std::to_string(f.id_) + ") ran " + format_ms(double(step.duration_ns) / 1e6) +
             " without suspending, from " +
             (f.site_.load()->kind == site_kind::body ? "its start" : step.from.where()) + " to " +
             (to->kind == site_kind::body ? "its end" : step.to.where()) +
             ", on thread " + std::to_string(step.thread));
  } catch (...) {
  }
}

void on_long_wait(frame &f, const site *at, std::int64_t begin, std::int64_t end) noexcept {
  runtime &r = rt();
  try {
    std::uint64_t key = 2 * std::uint64_t(f.suspensions_.load(std::memory_order_relaxed)) + 2;
    bool reported = f.watchdog_mark_.load() == key;
    std::uint64_t waited = ticks_to_ns(end - begin);
    std::lock_guard guard(r.records_lock);
    if (reported) {
      for (auto it = r.hangs.rbegin(); it != r.hangs.rend(); ++it)
        if (it->who.id == f.id_ && !it->resolved) {
          it->resolved = true;
          it->waited_ns = waited;
          break;
        }
      return;
    }
    r.hang_total.fetch_add(1, std::memory_order_relaxed);
    report::hang h;
    {
      std::lock_guard shard_guard(r.shards[f.shard_].lock);
      h.who = describe(f, end);
    }
    h.who.site = location_of(at, f.body_);
    h.waited_ns = waited;
    h.resolved = true;
    h.at_ms = ticks_to_ms_since_start(begin);
    push_bounded(r.hangs, std::move(h), r.drop_hangs);
  } catch (...) {
  }
}

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

namespace {

// ---------------------------------------------------------------------------
// The watchdog: stalls in progress, hangs, and SIGUSR1 dumps.

void watchdog_scan() {
  runtime &r = rt();
  refine_clock();
  std::int64_t now = now_ticks();
  std::int64_t slow = g_slow_ticks.load(std::memory_order_relaxed);
  std::int64_t hang = g_hang_ticks.load(std::memory_order_relaxed);
  struct finding {
    report::coroutine who;
    bool stall;
  };
  std::vector<finding> findings;
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_) {
      auto st = static_cast<state>(f->state_.load(std::memory_order_relaxed));
      std::int64_t since = f->since_.load(std::memory_order_relaxed);
      std::uint64_t k = f->suspensions_.load(std::memory_order_relaxed);
      if (st == state::running && now - since > slow && f->watchdog_mark_.load() != 2 * k + 1) {
        f->watchdog_mark_.store(2 * k + 1);
        findings.push_back({describe(*f, now), true});
      } else if (st == state::suspended && now - since > hang &&
                 f->watchdog_mark_.load() != 2 * k + 2) {
        f->watchdog_mark_.store(2 * k + 2);
        findings.push_back({describe(*f, now), false});
      }
    }
  }
  for (finding &found : findings) {
    report::coroutine &c = found.who;
    std::string who = "'" + c.body.function + (c.name.empty() ? "" : " \"" + c.name + "\"") +
                      "' (coroutine #" + std::to_string(c.id) + ")";
    if (found.stall) {
      report::slow_step step;
      step.coroutine = c.id;
      step.name = c.name;
      step.from = c.site;
      step.duration_ns = c.in_state_ns;
      step.at_ms = double(c.age_ns) / 1e6;
      step.in_progress = true;
      r.slow_total.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard guard(r.records_lock);
        push_bounded(r.slow_steps, step, r.drop_slow);
      }
      log_line("coroscope: stall: " + who + " has run " + format_ms(double(c.in_state_ns) / 1e6) +
               " without suspending, since " + c.site.where());
      continue;
    }
    c.parents = parent_chain(c.parent);
    std::string text = "coroscope: hang: " + who + " suspended for " +
                       format_ms(double(c.in_state_ns) / 1e6) + " at " + c.site.where() +
                       "\n  #0 " + chain_entry(c);
    for (std::size_t i = 0; i < c.parents.size(); ++i)
      text += "\n  #" + std::to_string(i + 1) + " " + c.parents[i];
    log_line(text);
    report::hang h;
    h.who = std::move(c);
    h.waited_ns = h.who.in_state_ns;
    h.at_ms = ticks_to_ms_since_start(now) - double(h.waited_ns) / 1e6;
    r.hang_total.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard guard(r.records_lock);
    push_bounded(r.hangs, std::move(h), r.drop_hangs);
  }
}

void watchdog_main() {
  runtime &r = rt();
  double period_ms = std::clamp(std::min(r.cfg.slow_ms, r.cfg.hang_ms) / 4, 1.0, 100.0);
  std::unique_lock lock(r.watchdog_lock);
  while (!r.watchdog_stop) {
    r.watchdog_wake.wait_for(lock, std::chrono::microseconds(std::int64_t(period_ms * 1000)));
    if (r.watchdog_stop)
      break;
    lock.unlock();
    try {
      if (g_dump_requested.exchange(false))
        dump_async_stacks(std::cerr);
      watchdog_scan();
    } catch (...) {
    }
    lock.lock();
  }
}

void start_watchdog() {
  runtime &r = rt();
  std::lock_guard guard(r.watchdog_lock);
  if (r.watchdog.joinable())
    return;
  r.watchdog_stop = false;
  try {
    r.watchdog = std::thread(watchdog_main);
  } catch (...) {
    std::fprintf(stderr, "coroscope: warning: cannot start the watchdog thread\n");
  }
}

void stop_watchdog() {
  runtime &r = rt();
  std::thread stopping;
  {
    std::lock_guard guard(r.watchdog_lock);
    r.watchdog_stop = true;
    stopping = std::move(r.watchdog);
  }
  r.watchdog_wake.notify_all();
  if (stopping.joinable() && stopping.get_id() != std::this_thread::get_id())
    stopping.join();
}

void at_exit_handler() {
  runtime &r = rt();
  stop_watchdog();
  if (g_gate.load() != 1)
    return;
  if (g_dump_requested.exchange(false))
    dump_async_stacks(std::cerr);
  try {
    report::report snapshot = make_report(true);
    if (r.cfg.summary)
      report::render_summary(snapshot, std::cerr);
    if (!r.cfg.report_path.empty()) {
      std::string error;
      if (!report::write_file_atomically(r.cfg.report_path, report::to_json(snapshot), error))
        std::fprintf(stderr, "coroscope: error: cannot write the report: %s\n", error.c_str());
    }
    if (!r.cfg.trace_path.empty())
      write_trace(r.cfg.trace_path);
  } catch (...) {
    std::fprintf(stderr, "coroscope: error: out of memory while writing reports\n");
  }
}

std::string process_label() {
  std::string name = "?";
  std::ifstream cmdline("/proc/self/cmdline");
  std::getline(cmdline, name, '\0');
  return name + " (pid " + std::to_string(::getpid()) + ")";
}

__attribute__((constructor(101))) void configure_at_load() { configure_on_first_use(); }

} // namespace

report::report make_report(bool at_exit) {
  runtime &r = rt();
  report::report out;
  out.processes.push_back(process_label());
  out.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r.start_time)
          .count();
  out.clock = g_use_tsc.load() ? "tsc" : "steady";
  out.slow_ms = r.cfg.slow_ms;
  out.hang_ms = r.cfg.hang_ms;
  out.at_exit = at_exit;

  std::map<const site *, report::function_stats> functions;
  std::map<const site *, report::site_stats> sites;
  auto read = [](const histogram &h) {
    report::histogram out;
    out.count = h.count.get();
    out.sum_ns = h.sum_ns.get();
    out.max_ns = h.max_ns.get();
    for (int i = 0; i < kBucketCount; ++i)
      if (std::uint64_t n = h.buckets[i].get())
        out.buckets[i] = n;
    return out;
  };
  {
    std::lock_guard guard(r.registry_lock);
    for (thread_record *t : r.threads)
      for (site_stats *s = t->site_list.load(std::memory_order_acquire); s != nullptr;
           s = s->next_in_thread) {
        if (s->where->kind == site_kind::body) {
          report::function_stats &f = functions[s->where];
          f.body = location_of(s->where, s->where);
          f.started += s->count.get();
          f.finished += s->finished.get();
          f.failed += s->failed.get();
          f.cancelled += s->cancelled.get();
          f.slow_steps += s->slow_steps.get();
          f.suspensions += s->suspensions.get();
          f.cross_thread_resumptions += s->cross_thread_resumptions.get();
          f.running_ns += s->running_ns.get();
          f.suspended_ns += s->suspended_ns.get();
          f.duration.merge(read(s->wait));
          f.final_step.merge(read(s->step));
        } else {
          report::site_stats &site = sites[s->where];
          site.at = location_of(s->where, nullptr);
          site.kind = s->where->kind == site_kind::yield ? "yield" : "await";
          site.wait.merge(read(s->wait));
          site.step.merge(read(s->step));
          site.count = site.wait.count;
        }
      }
  }
  for (auto &[where, f] : functions)
    out.functions.push_back(std::move(f));
  for (auto &[where, s] : sites)
    out.sites.push_back(std::move(s));

  {
    std::lock_guard guard(r.records_lock);
    out.slow_steps = r.slow_steps;
    out.hangs = r.hangs;
    out.failures = r.failures;
    out.cancelled = r.cancelled;
  }
  out.slow_step_total = r.slow_total.load();
  out.hang_total = r.hang_total.load();

  std::uint64_t live_dropped = 0;
  out.live = live_coroutines(r.cfg.max_records, &live_dropped, &out.live_running,
                             &out.live_suspended);

  auto now_second =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                       r.start_time)
          .count();
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (int slot = 0; slot < 60; ++slot)
      if (now_second - s.recent.second[slot] < 60 &&
          (s.recent.second[slot] != 0 || slot == 0)) {
        out.recent.started += s.recent.counts[slot][0];
        out.recent.finished += s.recent.counts[slot][1];
        out.recent.failed += s.recent.counts[slot][2];
        out.recent.cancelled += s.recent.counts[slot][3];
      }
  }

  out.drops["site_statistics"] = r.drop_sites.load();
  out.drops["slow_steps"] = r.drop_slow.load();
  out.drops["hangs"] = r.drop_hangs.load();
  out.drops["failures"] = r.drop_failures.load();
  out.drops["cancelled"] = r.drop_cancelled.load();
  out.drops["live"] = live_dropped;
  out.drops["trace_events"] = r.drop_trace.load();
  out.drops["log_lines"] = r.drop_log.load();
  return out;
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
      for (site_stats *s = t->site_list.load(); s != nullptr; s = s->next_in_thread)
        zero(*s);
  }
  {
    std::lock_guard guard(r.records_lock);
    r.slow_steps.clear();
    r.hangs.clear();
    r.failures.clear();
    r.cancelled.clear();
  }
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    s.recent = minute_ring{};
  }
  for (auto *counter : {&r.slow_total, &r.hang_total, &r.drop_sites, &r.drop_slow, &r.drop_hangs,
                        &r.drop_failures, &r.drop_cancelled, &r.drop_trace, &r.drop_log})
    counter->store(0);
  std::lock_guard guard(r.log_lock);
  r.log_second = -1;
}

} // namespace coroscope::detail

namespace coroscope {

void frame::fail() noexcept {
  if (body_ == nullptr || failure_ != nullptr)
    return;
  auto *record = new (std::nothrow) detail::failure_record;
  if (record == nullptr)
    return;
  try {
    if (const std::type_info *type = abi::__cxa_current_exception_type())
      record->type = detail::demangle(type->name());
    try {
      throw;
    } catch (const std::exception &e) {
      record->what = e.what();
    } catch (...) {
    }
  } catch (...) {
  }
  failure_ = record;
}

void frame::set_name(std::string_view name) noexcept {
  if (body_ == nullptr)
    return;
  std::lock_guard guard(detail::rt().shards[shard_].lock);
  std::size_t n = std::min(name.size(), sizeof name_ - 1);
  std::memcpy(name_, name.data(), n);
  name_[n] = '\0';
}

void name_current(std::string_view name) noexcept {
  if (frame *f = current())
    f->set_name(name);
}

void dump_async_stacks(std::ostream &out) {
  std::vector<report::coroutine> live =
      detail::live_coroutines(SIZE_MAX, nullptr, nullptr, nullptr);
  std::unordered_map<std::uint64_t, std::vector<const report::coroutine *>> children;
  std::unordered_map<std::uint64_t, const report::coroutine *> by_id;
  for (const report::coroutine &c : live)
    by_id[c.id] = &c;
  std::vector<const report::coroutine *> roots;
  for (const report::coroutine &c : live)
    if (c.parent != 0 && by_id.count(c.parent) != 0)
      children[c.parent].push_back(&c);
    else
      roots.push_back(&c);
  auto by_age = [](const report::coroutine *a, const report::coroutine *b) {
    return a->id < b->id;
  };
  std::sort(roots.begin(), roots.end(), by_age);
  for (auto &[id, list] : children)
    std::sort(list.begin(), list.end(), by_age);

  std::ostringstream text;
  text << "coroscope: async stacks: " << live.size() << " live coroutine"
       << (live.size() == 1 ? "" : "s") << "\n";
  auto ms = [](std::uint64_t ns) { return detail::format_ms(double(ns) / 1e6); };
  std::function<void(const report::coroutine &, const std::string &, bool)> print =
      [&](const report::coroutine &c, const std::string &indent, bool last) {
        text << indent << (last ? "└── " : "├── ") << "#" << c.id << " " << c.body.function;
        if (!c.name.empty())
          text << " \"" << c.name << "\"";
        if (c.state == "suspended")
          text << " [suspended " << ms(c.in_state_ns) << "] at " << c.site.where();
        else
          text << " [running " << ms(c.in_state_ns) << "] since " << c.site.where();
        text << " (age " << ms(c.age_ns) << ", ran " << ms(c.running_ns) << ", "
             << c.suspensions << " suspensions)\n";
        auto found = children.find(c.id);
        if (found == children.end())
          return;
        for (std::size_t i = 0; i < found->second.size(); ++i)
          print(*found->second[i], indent + (last ? "    " : "│   "),
                i + 1 == found->second.size());
      };
  for (std::size_t i = 0; i < roots.size(); ++i)
    print(*roots[i], "", i + 1 == roots.size());
  out << text.str() << std::flush;
}

bool write_report(const std::string &path) {
  try {
    std::string error;
    if (report::write_file_atomically(path, report::to_json(detail::make_report(false)), error))
      return true;
    std::fprintf(stderr, "coroscope: error: cannot write the report: %s\n", error.c_str());
  } catch (...) {
    std::fprintf(stderr, "coroscope: error: out of memory while writing the report\n");
  }
  return false;
}

void print_summary(std::ostream &out) { report::render_summary(detail::make_report(false), out); }

bool write_trace(const std::string &path) {
  using namespace detail;
  try {
    runtime &r = rt();
    std::string out;
    json::writer w(out);
    double ns_per_tick = g_ns_per_tick.load();
    auto us = [&](std::int64_t ticks) { return double(ticks - r.start_ticks) * ns_per_tick / 1e3; };
    int pid = ::getpid();
    auto flow_id = [](std::uint64_t coroutine, std::uint32_t step) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "0x%llx",
                    static_cast<unsigned long long>((coroutine << 20) | (step & 0xFFFFF)));
      return std::string(buffer);
    };
    auto where = [](const site *s) {
      return s == nullptr ? std::string("?")
                          : std::string(s->file) + ":" + std::to_string(s->line);
    };
    w.begin_object();
    w.key("displayTimeUnit").value("ms");
    w.key("traceEvents").begin_array();
    w.begin_object()
        .key("ph").value("M").key("name").value("process_name").key("pid").value(pid)
        .key("args").begin_object().key("name").value(detail::process_label()).end_object()
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
          w.begin_object();
          w.key("name").value(function).key("cat").value("coroutine").key("ph").value("X");
          w.key("ts").value(us(e.begin)).key("dur").value(double(e.end - e.begin) * ns_per_tick / 1e3);
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
                .key("ts").value(us(e.begin)).key("pid").value(pid).key("tid").value(tid)
                .end_object();
          if (e.suspended)
            w.begin_object()
                .key("name").value("resume").key("cat").value("coroutine").key("ph").value("s")
                .key("id").value(flow_id(e.coroutine, e.step)).key("ts").value(us(e.begin))
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
    std::string error;
    if (report::write_file_atomically(path, out, error))
      return true;
    std::fprintf(stderr, "coroscope: error: cannot write the trace: %s\n", error.c_str());
  } catch (...) {
    std::fprintf(stderr, "coroscope: error: out of memory while writing the trace\n");
  }
  return false;
}

} // namespace coroscope
