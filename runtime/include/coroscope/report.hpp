// The report model: what a JSON report holds, independent of the live
// tracker, so reports from many processes can be read back and merged.
// The schema is documented in docs/runtime/report-schema.md.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace coroscope::report {

inline constexpr int kSchemaVersion = 2;
inline constexpr std::string_view kSchemaName = "coroscope-report";

struct histogram {
  std::uint64_t count = 0, sum_ns = 0, min_ns = 0, max_ns = 0;
  std::map<int, std::uint64_t> buckets; // log-linear bucket index -> count

  void merge(const histogram &other);
  // The bucket holding quantile q, as [low, high], within [min_ns, max_ns].
  struct range {
    std::uint64_t low = 0, high = 0;
  };
  range percentile_range(double q) const;
  // The upper bound of that range.
  std::uint64_t percentile(double q) const { return percentile_range(q).high; }
  double mean_ns() const { return count == 0 ? 0.0 : double(sum_ns) / double(count); }
};

struct location {
  std::string function, file;
  std::uint32_t line = 0, column = 0;
  bool empty() const { return file.empty() && function.empty(); }
  // "file:line:column", or "file:line" when the column is unknown.
  std::string where() const;
};

// One edge of the awaited-by graph, from the callee's side: coroutines of
// `function` awaited (or spawned) this many coroutines of the function the
// edge belongs to.
struct caller_edge {
  location function;
  std::uint64_t count = 0;
};

struct function_stats {
  location body;
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0, abandoned = 0;
  // Destroyed before the body ran (a lazy task never awaited); not started.
  std::uint64_t never_started = 0;
  std::uint64_t slow_steps = 0, suspensions = 0, cross_thread_resumptions = 0;
  std::uint64_t running_ns = 0, suspended_ns = 0;
  histogram duration; // lifetime of each coroutine that ended
  histogram final_step;
  std::vector<caller_edge> awaited_by, spawned_by;
};

struct site_stats {
  location at;
  std::string kind;      // "await" or "yield"
  std::string waits_for; // "event", "child" or "schedule"
  std::uint64_t count = 0; // suspensions (the source engine: every await)
  // The IR engine: awaits that did not suspend (await_ready was true), not
  // in `count`; a lower bound when several threads await at the site.
  std::uint64_t ready = 0;
  histogram wait; // suspended at this site
  histogram step; // the step that ended by suspending here
};

struct slow_step {
  std::uint64_t coroutine = 0;
  std::string name;
  location from, to; // the region that ran without suspending
  std::uint32_t thread = 0;
  std::uint64_t duration_ns = 0;
  double at_ms = 0; // since the process started
  bool in_progress = false; // seen by the watchdog; the step had not ended
};

struct coroutine {
  std::uint64_t id = 0, parent = 0;
  // Its spawn parent (the coroutine that created it; 0 when none was
  // running) and the call that created it, in that coroutine. Creation is
  // not awaiting: a task spawned onto an executor has a creator and no
  // awaiting parent.
  std::uint64_t creator = 0;
  location created_at;
  // The name the program gave it (COROSCOPE_NAME), or where it was started
  // from ("from server.cpp:40"); `named` tells which.
  std::string name, state;
  bool named = false;
  location body;
  location site;             // current await site, or where the step began
  std::uint64_t age_ns = 0;  // since it started
  std::uint64_t in_state_ns = 0;
  std::uint64_t running_ns = 0, suspended_ns = 0, max_step_ns = 0;
  std::uint64_t suspensions = 0, cross_thread_resumptions = 0;
  location max_step_from, max_step_to;
  std::string exception_type, exception_what; // failures only
  std::vector<std::string> parents;           // failures and hangs: the await chain
  // Failures: the awaiters the exception went on to fail, innermost first
  // ("function at file:line:col"); they are not reported again.
  std::vector<std::string> propagated_to;
};

// Waits longer than the hang threshold at one site. At an event site they
// are hangs; at a schedule site, queueing behind other work.
struct long_waits {
  location site;
  std::string waits_for;
  std::uint64_t count = 0;    // long waits, ended or seen in progress
  std::uint64_t resolved = 0; // of which ended by resuming
  std::uint64_t worst_ns = 0;
  double first_at_ms = 0; // since the process started
  coroutine worst;        // the longest waiter, with its await chain
};

// Run-time lock tracking (docs/runtime/locks.md). Locks are grouped by
// class, the name coro-lock-order-inversion gives them.
struct lock_class_stats {
  std::string name, kind; // kind: "mutex", "shared" or "async"
  std::uint64_t acquisitions = 0, contended = 0;
  histogram wait, hold;
  // The longest hold: the region from acquisition to release, and its holder.
  std::uint64_t longest_hold_ns = 0;
  location longest_from, longest_to;
  std::string longest_holder; // "fetch (coroutine 12)" or "thread 3"
};

// A thread-owned lock held while its coroutine was suspended: the run-time
// twin of coro-lock-across-suspend. One record per (lock, acquisition,
// suspension site).
struct lock_held_across {
  std::string lock, check = "coro-lock-across-suspend";
  location acquired_at, suspended_at;
  std::string coroutine; // the first one seen, "fetch (coroutine 12)"
  std::uint64_t count = 0;
  // Resumed on another thread than the lock was acquired on.
  std::uint64_t other_thread = 0;
  std::uint64_t suspended_ns = 0, max_suspended_ns = 0;
};

// A thread-owned lock released on another thread than it was acquired on:
// undefined behaviour for std::mutex and pthread mutexes.
struct lock_foreign_release {
  std::string lock;
  location acquired_at, released_at;
  std::uint32_t acquired_thread = 0, released_thread = 0; // the first seen
  std::string holder;
  std::uint64_t count = 0;
};

// The first time lock `first` was held while `second` was acquired.
struct lock_order {
  std::string first, second;
  location first_at, second_at; // where each was acquired
  std::string holder;           // "fetch (coroutine 12)" or "thread 3"
  std::uint32_t thread = 0;
};

// Classes acquired in a cycle of orders: each order's `second` is the next
// one's `first`, and the last one's `second` is the first one's `first`.
struct lock_cycle {
  std::vector<lock_order> orders;
};

// A cycle of waits the watchdog found among live coroutines and threads.
struct deadlock_member {
  std::string who;   // "fetch (coroutine 12)" or "thread 3"
  location at;       // where it waits
  std::string waits_for; // "lock Cache::m_ held by ...", "coroutine 14"
  std::string lock;  // the lock it waits for, if any
};
struct deadlock {
  std::vector<deadlock_member> members;
  double at_ms = 0;
};

struct locks_section {
  std::vector<lock_class_stats> classes;
  std::vector<lock_held_across> held_across_suspension;
  std::vector<lock_foreign_release> released_on_other_thread;
  std::vector<lock_order> orders;
  std::vector<lock_cycle> cycles;
  std::vector<deadlock> deadlocks;
  std::uint64_t unmatched_releases = 0;
  bool empty() const {
    return classes.empty() && held_across_suspension.empty() && released_on_other_thread.empty() &&
           cycles.empty() && deadlocks.empty() && unmatched_releases == 0;
  }
};

struct last_minute {
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0;
};

// Every coroutine's fate, counted where it starts and ends: exact, whatever
// the per-function statistics dropped.
struct totals {
  bool known = false; // false: only the per-function statistics say
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0, abandoned = 0;
  std::uint64_t never_started = 0;
};

// What the process used, from getrusage and /proc/self, when the report was
// made; the peaks include the watchdog's samples (one a second while it
// runs). Merged reports add the processes' figures and keep the largest
// peaks.
struct system_usage {
  bool known = false; // false: the platform gave none
  double user_cpu_s = 0, system_cpu_s = 0;
  std::uint64_t rss_bytes = 0, peak_rss_bytes = 0;
  std::uint64_t threads = 0, peak_threads = 0;
  std::uint64_t voluntary_switches = 0, involuntary_switches = 0;
  std::uint64_t samples = 0;
};

struct report {
  int version = kSchemaVersion;
  std::vector<std::string> processes; // "argv0 (pid N)"
  double duration_ms = 0;
  std::string clock;
  double slow_ms = 0, hang_ms = 0;
  bool at_exit = false;
  std::string terminated_by; // "SIGTERM" when a signal ended the process
  last_minute recent;
  totals exact;
  std::vector<function_stats> functions;
  std::vector<site_stats> sites;
  std::vector<slow_step> slow_steps;
  std::uint64_t slow_step_total = 0;
  std::vector<long_waits> hangs, queued; // by site
  std::uint64_t hang_total = 0, queued_total = 0;
  std::vector<coroutine> failures; // one per failure, not per frame it went through
  std::uint64_t failure_total = 0; // distinct failures, dropped records included
  std::vector<coroutine> cancelled; // destroyed while suspended
  std::vector<coroutine> live;      // at exit: suspended ones are leaks
  std::uint64_t live_running = 0, live_suspended = 0;
  locks_section locks;
  system_usage system;
  std::map<std::string, std::uint64_t> drops;
};

// Derived figures, computed from the model so merged reports agree.
struct summary {
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0, abandoned = 0;
  std::uint64_t never_started = 0;
  // Coroutines the per-function statistics miss (their blocks dropped):
  // the breakdown by function is partial by this much.
  std::uint64_t unattributed = 0;
  std::uint64_t live = 0, running = 0, suspended = 0;
  double success_rate = 0, error_rate = 0;
  histogram duration;
};
summary summarize(const report &r);

std::string to_json(const report &r);
// "fetch \"user 7\"" for a named coroutine, "fetch (from server.cpp:40)"
// for one named by where it started.
std::string display_name(const coroutine &c);
// "12.3 ms", or "16.8-18.9 s" when q's bucket is wider than 1%.
std::string percentile_text(const histogram &h, double q);
std::string duration_text(double ns);
// Reports are read back by the tools (tool/coroscope/ReportReader.h).
report merge(const std::vector<report> &reports);
void render_summary(const report &r, std::ostream &out);

} // namespace coroscope::report
