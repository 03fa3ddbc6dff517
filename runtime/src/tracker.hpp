// The tracker's internal state, shared by the runtime's source files: the
// registry of live coroutines (sharded lists), per-thread records with their
// site statistics and trace chunks, and the bounded record lists. Layers,
// from the instrumented code down:
//   hooks         coroscope.hpp (inline, per suspension), ir_hooks.cpp (the
//                 IR engine's), lifecycle.cpp (a body's start, end, failure),
//                 creation.cpp (who created each coroutine, and where)
//   per thread    threads.cpp: thread records, site statistics and their cache
//   registry      registry.cpp: the live lists and record lists;
//                 debug_layout.cpp: their layout, for readers outside
//   detectors     detectors.cpp: slow steps, hangs and the watchdog
//   writers       snapshot.cpp (the registry read into the report model;
//                 async stacks), report_*.cpp, trace*.cpp, output.cpp
//   the process   config.cpp, clock.cpp, log.cpp, describe.cpp (names in
//                 records and lines), process_events.cpp (exit, signals and
//                 fork: when and where outputs go)
#pragma once

#include "coroscope/coroscope.hpp"
#include "coroscope/report.hpp"
#include "coroscope/testing.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <unordered_set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace coroscope::detail {

struct failure_record {
  std::string type, what;
  // Held from the catch handler to the end of the frame, and then while its
  // awaiter may rethrow it: the same object failing the awaiter is the same
  // failure, propagated.
  std::exception_ptr exception;
  bool propagated = false; // an awaited child failed with this exception
};

// The failure that ended last on a thread, while its awaiter may still fail
// with it (the awaiter resumes on the same thread to rethrow it).
struct pending_failure {
  std::uint64_t awaiter = 0;
  std::exception_ptr exception;
  std::size_t record = SIZE_MAX; // index in runtime::failures, if kept
};

// One awaited-by (or spawned-by) edge between two functions, per thread.
struct edge_stats {
  const site *parent = nullptr, *child = nullptr;
  bool awaited = false;
  counter count;
  edge_stats *next_in_thread = nullptr;
};

struct edge_key {
  const site *parent, *child;
  bool awaited;
  bool operator==(const edge_key &) const = default;
};

struct edge_key_hash {
  std::size_t operator()(const edge_key &k) const noexcept {
    return std::hash<const void *>()(k.parent) * 31 + std::hash<const void *>()(k.child) * 2 +
           k.awaited;
  }
};

inline constexpr int kShards = 16;

// A co_yield, the last of its body or not.
inline bool is_yield(const site *s) {
  return s != nullptr && (s->kind == site_kind::yield || s->kind == site_kind::last_yield);
}

// Where a suspended frame waits, for what its wait means: the co_yield of
// its full-expression if it has one (`co_yield co_await x`), else its site.
inline const site *waiting_at(const frame &f) {
  const site *yield = f.expression_yield_.load(std::memory_order_relaxed);
  return yield != nullptr ? yield : f.site_.load(std::memory_order_relaxed);
}

inline constexpr std::uint32_t kTraceChunkEvents = 1024;

// One step of the trace, as a reader copies it out of a slot.
struct step_record {
  std::int64_t begin, end;
  std::uint64_t coroutine;
  const site *body, *from, *to;
  std::uint32_t step;
  bool suspended;
};

// A step in a thread's trace buffer (trace_ring.cpp). Only its thread writes
// it; readers copy it while it may be rewritten, so every field is accessed
// through a relaxed std::atomic_ref, and `seq` (the step's index in its
// thread plus one, 0 while being written) is read before and after the
// fields to tell a torn copy.
struct trace_slot {
  std::uint64_t seq;
  step_record step;
};

// Allocated with malloc and freed with free: a slot is read only once its
// step is written, so nothing needs clearing.
struct trace_chunk {
  trace_chunk *next;      // the thread's chunks, newest first; set before publication
  trace_chunk *ring_next; // owner only: the chunk written after this one
  std::uint64_t base;     // the index of the step in slots[0] (atomic_ref)
  trace_slot slots[kTraceChunkEvents];
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

// Indices of shard::fates.
enum fate { fate_started, fate_finished, fate_failed, fate_cancelled, fate_abandoned, kFates };

struct shard {
  std::mutex lock;
  frame *head = nullptr;
  // Every coroutine started and ended on this shard, by fate: the report's
  // exact totals. Counted under the lock the list change takes anyway.
  std::uint64_t fates[kFates] = {};
  // Odd while the list changes (under the lock): a reader outside the
  // process that saw it change during its walk retries (debug_layout.hpp).
  std::atomic<std::uint64_t> generation{0};
  minute_ring recent;
};

struct thread_locks; // lock_tracker.hpp

// Everything one thread owns. Records outlive their threads, so reports keep
// the statistics of threads that have exited; a thread that starts takes
// over the record of one that exited (threads.cpp), so a program that makes
// many short-lived threads keeps as many records as it had threads at once.
struct thread_record {
  thread_state state;
  std::unordered_map<const site *, site_stats *> sites; // owner thread only
  std::atomic<site_stats *> site_list{nullptr};         // published for readers
  std::unordered_map<edge_key, edge_stats *, edge_key_hash> edges; // owner thread only
  std::atomic<edge_stats *> edge_list{nullptr};                   // published for readers
  pending_failure last_failure; // owner thread only
  // The trace buffer (trace_ring.cpp). Chunks are only added, and freed
  // only by a reconfiguration; a null trace_tail starts a new buffer.
  std::atomic<trace_chunk *> trace_head{nullptr}; // every chunk, newest first
  trace_chunk *trace_first = nullptr;             // owner only: the oldest chunk
  trace_chunk *trace_tail = nullptr;              // owner only: the chunk being written
  std::uint32_t trace_fill = 0;                   // owner only: slots used in trace_tail
  std::uint32_t trace_chunks = 0;                 // owner only: chunks in the buffer
  std::atomic<std::uint64_t> trace_written{0};    // steps written; the next one's index
  std::atomic<std::uint64_t> trace_kept_from{0};  // steps below this index are dropped
  std::atomic<std::int32_t> trace_tid{0};         // the OS thread id
  thread_record *published_next = nullptr;        // the thread list readers walk
  std::atomic<thread_locks *> locks{nullptr};     // at its first lock (locks.cpp)
};

struct runtime {
  config cfg;
  std::mutex registry_lock; // threads, free_records
  std::vector<thread_record *> threads;
  // Records of exited threads, for the next thread to take over.
  std::vector<thread_record *> free_records;
  std::atomic<std::uint32_t> next_thread{1};
  // Every thread record, newest first, for readers outside the process.
  std::atomic<thread_record *> published_threads{nullptr};
  // Now, as the watchdog last saw it: the time of a core dump.
  std::atomic<std::int64_t> heartbeat_ticks{0};
  // The system_usage.cpp samples' peak thread count, and how many there were.
  std::atomic<std::uint64_t> peak_threads{0}, system_samples{0};
  std::atomic<std::uint64_t> next_id_block{0};
  std::atomic<std::int64_t> site_blocks{0};
  shard shards[kShards];

  std::mutex records_lock; // the bounded lists and the long waits
  std::vector<report::slow_step> slow_steps;
  std::unordered_map<const site *, report::long_waits> hangs, queued;
  std::unordered_set<const site *> never_started_logged; // logged once each
  std::vector<report::coroutine> failures, cancelled;
  std::atomic<std::uint64_t> slow_total{0}, hang_total{0}, queued_total{0}, failure_total{0};
  std::atomic<std::uint64_t> never_started_total{0};

  // Which coroutines adopted a child during their current suspension,
  // hashed by (id, suspension count): a long wait at a child site is the
  // child's only if a tracked child started there. A collision can only
  // hide a hang until that coroutine's next long wait.
  static constexpr std::size_t kAdoptedSlots = 4096;
  std::atomic<std::uint64_t> adopted[kAdoptedSlots] = {};

  // Who created a coroutine, recorded where it is created (the plugin's
  // ramp hook) and taken when its body starts, keyed by its frame. A
  // collision or a coroutine never started only loses
  // a creation site.
  struct creation_record {
    const void *key = nullptr;
    std::uint64_t creator = 0;
    const site *creator_body = nullptr, *at = nullptr;
  };
  static constexpr std::size_t kCreationSlots = 8192, kCreationLocks = 64;
  creation_record creations[kCreationSlots];
  std::mutex creation_locks[kCreationLocks];
  std::atomic<bool> creations_seen{false};

  std::atomic<std::int64_t> trace_budget{0};
  std::atomic<std::uint64_t> drop_sites{0}, drop_slow{0}, drop_hangs{0}, drop_failures{0},
      drop_cancelled{0}, drop_trace{0}, drop_log{0};
  // Steps a flight-recorder ring overwrote because they fell out of its
  // window (drop_trace counts those the bound dropped).
  std::atomic<std::uint64_t> drop_trace_window{0};
  std::atomic<std::uint64_t> live_dropped{0};

  std::int64_t start_ticks = 0;
  // The wall clock (Unix ns) at start_ticks: a reader of a core dump turns
  // the dump's time into ticks with it.
  std::int64_t start_unix_ns = 0;
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
  // In a forked child: ids below this are the parent's coroutines, copied
  // with its memory; they are not the child's to report.
  std::atomic<std::uint64_t> inherited_below{0};
  // In a forked child: the watchdog and signal service are to be restarted.
  std::atomic<bool> restart_pending{false};
};

// Never destroyed: coroutines may end during static destruction.
runtime &rt();

// Guards configuration changes (and fork, which must not split one).
extern std::mutex g_configure_lock;
// Set by SIGUSR1; the watchdog prints the async stacks.
extern std::atomic<bool> g_dump_requested;

inline std::uint64_t adoption_key(std::uint64_t id, std::uint32_t suspensions) {
  return (id * 0x9E3779B97F4A7C15ull) ^ (std::uint64_t(suspensions) + 1);
}

template <typename T>
void push_bounded(std::vector<T> &list, T item, std::atomic<std::uint64_t> &dropped) {
  if (list.size() < rt().cfg.max_records)
    list.push_back(std::move(item));
  else
    dropped.fetch_add(1, std::memory_order_relaxed);
}

// debug_layout.cpp: fills the published table with the registry's address.
void publish_registry(runtime &r);

// creation.cpp: sets f's creator and creation site as its body starts,
// before the thread's pending awaiter is cleared.
void record_creator(frame &f, thread_state &thread);
// The IR engine's record of a coroutine's creation, made by its ramp and
// kept in its frame's storage, after the null body site, until the body
// starts (coroscope/ir_abi.h).
struct ramp_creation {
  std::uint64_t recorded; // 1: made while tracking was on
  std::uint64_t creator;
  const site *creator_body, *at;
};
void record_ramp_creation(ramp_creation &into);

// config.cpp
void apply_config(const config &cfg);

// clock.cpp
void choose_clock(const std::string &clock);
std::int64_t ms_to_ticks(double ms);
void refine_clock();
double ticks_to_ms_since_start(std::int64_t ticks);
std::int64_t seconds_since_start(std::int64_t ticks);

// log.cpp
void log_line(const std::string &line);
std::string format_ms(double ms);

// describe.cpp
report::location location_of(const site *where, const site *body);
const char *state_name(std::uint8_t s);
// The explicit name, or the function and where it was started from.
std::string display_name(const frame &f);
std::string frame_name(const frame &f);
std::string demangle(const char *name);

// threads.cpp
thread_record *record_of(thread_state &state);
void zero(site_stats &s);
// Zeroes a thread's statistics; its blocks stay, the thread may use them.
void zero_thread(thread_record &t);

// registry.cpp; the caller holds the frame's shard lock.
void link_live(frame &f);
void unlink_live(frame &f);
// Forgets every record and counter (tests, a forked child). The caller
// holds the locks, or is the only thread.
void forget_records_unlocked();

// detectors.cpp
// True when \p f, suspended at the child site \p at, started a tracked
// child there: its wait is the child's. `resuming`: \p f is resuming on
// this thread, where the child that ended may have resumed it.
bool waits_for_its_child(const frame &f, const site *at, bool resuming);
void start_watchdog();
void stop_watchdog();

// system_usage.cpp: the process's CPU time, memory, threads and context
// switches now, and the figures for a report, with the peaks of the
// watchdog's samples (note_system_sample, in testing.hpp).
report::system_usage sample_system_usage();
report::system_usage system_usage_for_report();
void install_dump_signal();

// snapshot.cpp; the caller of describe() holds the frame's shard lock.
report::histogram read_histogram(const histogram &h);
report::coroutine describe(const frame &f, std::int64_t now);
std::vector<report::coroutine> live_coroutines(std::size_t limit, std::uint64_t *dropped,
                                               std::uint64_t *running, std::uint64_t *suspended);
std::string chain_entry(const report::coroutine &c);
std::vector<std::string> parent_chain(std::uint64_t parent);
std::string process_label();
// Writes an output now (write_report(), write_trace()): false, and one line
// on stderr naming `what` and the path, when it cannot.
bool write_now(const std::string &path, const char *what,
               const std::function<std::string()> &contents);

// trace.cpp and trace_*.cpp
// Reads COROSCOPE_TRACE_FORMAT and COROSCOPE_TRACE_WINDOW into `cfg`.
void read_trace_config(const std::function<const char *(const char *)> &getenv, config &cfg,
                       std::vector<std::string> &warnings);
// Stops the flight recorder's thread, before the configuration changes.
void stop_flight_recorder();
// Applies the trace settings; forgets the steps recorded so far.
void configure_trace(const config &cfg);
// The trace now, in the format chosen for `path`.
std::string trace_now(const std::string &path);
// With a window (flight recorder): writes the last dump, which replaces
// the file as every dump does, and returns true. Without one: false.
bool write_flight_recording(int signal_number);
// Asks the flight recorder for a dump of its window (a hang, a failure,
// SIGUSR1): at most one a second, written by a thread of its own; returns
// at once. Does nothing without a window.
void trace_trigger(const char *why) noexcept;

// ir_hooks.cpp: the IR engine's counts of awaits that did not suspend, per
// site (coroscope/ir_abi.h), registered by the instrumented modules.
void for_each_ready_count(const std::function<void(const site *, std::uint64_t)> &visit);
// Zeroes them (tests, a forked child).
void zero_ready_counts();

// process_events.cpp
void install_process_hooks();
void restart_after_fork();

// detectors.cpp: "event", "child", "schedule" or "timer", as reports name it.
const char *waits_for_name(awaits a);

inline bool inherited_from_parent(const frame &f) {
  return f.id_ < rt().inherited_below.load(std::memory_order_relaxed);
}

} // namespace coroscope::detail

// The IR engine's hooks (coroscope/ir_abi.h, ir_hooks.cpp).
extern "C" {
void coroscope_ir_created(void *storage) noexcept;
void coroscope_ir_creating(void *storage, const coroscope::site *at) noexcept;
void coroscope_ir_begin(void *storage, const coroscope::site *body) noexcept;
void coroscope_ir_suspend(void *storage, const coroscope::site *at) noexcept;
void coroscope_ir_resume(void *storage) noexcept;
void coroscope_ir_failed(void *storage) noexcept;
void coroscope_ir_end(void *storage) noexcept;
void coroscope_ir_destroyed(void *storage) noexcept;
void coroscope_ir_unwound(void *storage) noexcept;
void coroscope_ir_ready_sites(void *table) noexcept;
void coroscope_ir_lock_waiting(const void *mutex, const coroscope::lock_site *at,
                               std::int64_t *token) noexcept;
void coroscope_ir_lock_acquired(const void *mutex, const coroscope::lock_site *at,
                                const std::int64_t *token) noexcept;
void coroscope_ir_lock_released(const void *mutex, const coroscope::lock_site *at) noexcept;
}
