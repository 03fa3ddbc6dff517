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

inline constexpr int kSchemaVersion = 1;
inline constexpr std::string_view kSchemaName = "coroscope-report";

struct histogram {
  std::uint64_t count = 0, sum_ns = 0, max_ns = 0;
  std::map<int, std::uint64_t> buckets; // log-linear bucket index -> count

  void merge(const histogram &other);
  // The upper bound of the bucket holding quantile q, capped at max_ns.
  std::uint64_t percentile(double q) const;
  double mean_ns() const { return count == 0 ? 0.0 : double(sum_ns) / double(count); }
};

struct location {
  std::string function, file;
  std::uint32_t line = 0, column = 0;
  bool empty() const { return file.empty() && function.empty(); }
  // "file:line:column", or "file:line" when the column is unknown.
  std::string where() const;
};

struct function_stats {
  location body;
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0;
  std::uint64_t slow_steps = 0, suspensions = 0, cross_thread_resumptions = 0;
  std::uint64_t running_ns = 0, suspended_ns = 0;
  histogram duration; // lifetime of each coroutine that ended
  histogram final_step;
};

struct site_stats {
  location at;
  std::string kind; // "await" or "yield"
  std::uint64_t count = 0;
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
  std::string name, state;
  location body;
  location site;             // current await site, or where the step began
  std::uint64_t age_ns = 0;  // since it started
  std::uint64_t in_state_ns = 0;
  std::uint64_t running_ns = 0, suspended_ns = 0, max_step_ns = 0;
  std::uint64_t suspensions = 0, cross_thread_resumptions = 0;
  location max_step_from, max_step_to;
  std::string exception_type, exception_what; // failures only
  std::vector<std::string> parents;           // failures and hangs: the await chain
};

struct hang {
  coroutine who; // who.site is where it waits; who.parents its async stack
  std::uint64_t waited_ns = 0;
  bool resolved = false; // it resumed after all
  double at_ms = 0;
};

struct last_minute {
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0;
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
  std::vector<function_stats> functions;
  std::vector<site_stats> sites;
  std::vector<slow_step> slow_steps;
  std::uint64_t slow_step_total = 0;
  std::vector<hang> hangs;
  std::uint64_t hang_total = 0;
  std::vector<coroutine> failures;
  std::vector<coroutine> cancelled; // destroyed while suspended
  std::vector<coroutine> live;      // at exit: suspended ones are leaks
  std::uint64_t live_running = 0, live_suspended = 0;
  std::map<std::string, std::uint64_t> drops;
};

// Derived figures, computed from the model so merged reports agree.
struct summary {
  std::uint64_t started = 0, finished = 0, failed = 0, cancelled = 0;
  std::uint64_t live = 0, running = 0, suspended = 0;
  double success_rate = 0, error_rate = 0;
  histogram duration;
};
summary summarize(const report &r);

std::string to_json(const report &r);
// Reports are read back by the tools (tool/coroscope/ReportReader.h).
report merge(const std::vector<report> &reports);
void render_summary(const report &r, std::ostream &out);

} // namespace coroscope::report
