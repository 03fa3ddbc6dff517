// The human summary printed at exit. Every section starts with its total;
// only the rows under it are cut to the worst few.
#include "coroscope/report.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <tuple>

namespace coroscope::report {
namespace {

constexpr std::size_t kRows = 5;

std::string percent(double rate) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", rate * 100);
  return buffer;
}

// Not "~" + tail: g++ 12 warns falsely about that (-Wrestrict, GCC PR 105651).
std::string tilde_then(const std::string &tail) {
  std::string out(1, '~');
  out += tail;
  return out;
}

// A name too wide for its column keeps its end when that is where it says
// where it is: "serve::(lambda at server.cpp:40:18)" keeps the lambda's
// location and loses the front. Other names keep their front.
std::string clip_name(const std::string &text, std::size_t width) {
  if (text.size() <= width)
    return text;
  std::size_t lambda = text.rfind("(lambda at ");
  if (lambda != std::string::npos && lambda != 0)
    return tilde_then(text.substr(std::max(lambda, text.size() - (width - 1))));
  return text.substr(0, width - 1) + "~";
}

// A location keeps its end, file name and line, when it is too wide.
std::string clip_left(std::string text, std::size_t width) {
  if (text.size() > width)
    text = tilde_then(text.substr(text.size() - (width - 1)));
  return text;
}

std::size_t column_width(std::size_t widest, std::size_t least, std::size_t most) {
  return std::clamp(widest + 1, least, most);
}

std::string plural(std::uint64_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void more(std::ostream &out, std::size_t total, const char *what) {
  if (total > kRows)
    out << "  ... and " << total - kRows << " more " << what << "\n";
}

std::string megabytes(std::uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", double(bytes) / 1e6);
  return buffer;
}

std::string seconds(double s) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f s", s);
  return buffer;
}

void render_system(const system_usage &u, std::size_t processes, std::ostream &out) {
  out << "coroscope: system: CPU " << seconds(u.user_cpu_s) << " user + "
      << seconds(u.system_cpu_s) << " system; " << megabytes(u.rss_bytes) << " resident"
      << (processes > 1 ? " in all, largest peak " : ", peak ") << megabytes(u.peak_rss_bytes)
      << "; " << plural(u.threads, "thread") << " (peak "
      << u.peak_threads << "); " << u.voluntary_switches + u.involuntary_switches
      << " context switches (" << u.involuntary_switches << " involuntary)\n";
}

void render_long_waits(const report &r, std::ostream &out, const std::vector<long_waits> &list,
                       std::uint64_t total, const char *title, const char *meaning) {
  if (total == 0)
    return;
  std::uint64_t resolved = 0;
  for (const long_waits &w : list)
    resolved += w.resolved;
  out << "coroscope: " << title << ": " << plural(total, "wait") << " over "
      << duration_text(r.hang_ms * 1e6) << " " << meaning << " at "
      << plural(list.size(), "site") << " (" << resolved << " then resumed); worst first:\n";
  std::size_t widest = 0;
  for (std::size_t i = 0; i < list.size() && i < kRows; ++i)
    widest = std::max(widest, list[i].site.where().size());
  std::size_t width = column_width(widest, 24, 56);
  for (std::size_t i = 0; i < list.size() && i < kRows; ++i) {
    const long_waits &w = list[i];
    out << "  " << std::setw(10) << duration_text(double(w.worst_ns)) << "  " << std::left
        << std::setw(int(width)) << clip_left(w.site.where(), width - 1) << std::right
        << std::setw(9) << w.count << "x  " << display_name(w.worst) << "\n";
    for (std::size_t p = 0; p < w.worst.parents.size() && p < 3; ++p)
      out << "              awaited by " << w.worst.parents[p] << "\n";
  }
  more(out, list.size(), "sites");
}

// Locks: what went wrong first (deadlocks, cycles, locks held across
// suspensions or released elsewhere), then the most contended classes.
void render_locks(const locks_section &l, std::ostream &out) {
  for (const deadlock &d : l.deadlocks) {
    out << "coroscope: deadlock among " << d.members.size() << " waiters:\n";
    for (const deadlock_member &m : d.members)
      out << "  " << m.who << " at " << m.at.where() << " waits for " << m.waits_for << "\n";
  }
  for (std::size_t i = 0; i < l.cycles.size() && i < kRows; ++i) {
    out << "coroscope: lock-order cycle (not deadlocked in this run unless named above):\n";
    for (const lock_order &o : l.cycles[i].orders)
      out << "  " << o.first << " then " << o.second << " at " << o.second_at.where() << " by "
          << o.holder << " (" << o.first << " taken at " << o.first_at.where() << ")\n";
  }
  more(out, l.cycles.size(), "lock-order cycles");
  for (std::size_t i = 0; i < l.held_across_suspension.size() && i < kRows; ++i) {
    const lock_held_across &h = l.held_across_suspension[i];
    out << "coroscope: lock " << h.lock << " held across a suspension at " << h.suspended_at.where()
        << " (" << plural(h.count, "time") << ", " << h.other_thread
        << " resumed on another thread) [" << h.check << "]\n";
  }
  more(out, l.held_across_suspension.size(), "locks held across suspensions");
  for (std::size_t i = 0; i < l.released_on_other_thread.size() && i < kRows; ++i) {
    const lock_foreign_release &f = l.released_on_other_thread[i];
    out << "coroscope: lock " << f.lock << " acquired at " << f.acquired_at.where()
        << " released on another thread at " << f.released_at.where() << " ("
        << plural(f.count, "time") << "): undefined behaviour\n";
  }
  if (l.classes.empty())
    return;
  std::vector<const lock_class_stats *> rows;
  for (const lock_class_stats &c : l.classes)
    rows.push_back(&c);
  std::sort(rows.begin(), rows.end(), [](const lock_class_stats *a, const lock_class_stats *b) {
    return std::tie(a->wait.sum_ns, a->hold.sum_ns) > std::tie(b->wait.sum_ns, b->hold.sum_ns);
  });
  std::size_t widest = 0;
  for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
    widest = std::max(widest, rows[i]->name.size());
  std::size_t width = column_width(widest, 24, 48);
  out << "coroscope: " << rows.size() << (rows.size() == 1 ? " lock class" : " lock classes")
      << " by time waited:\n";
  out << "  " << std::left << std::setw(int(width)) << "lock" << std::right << std::setw(10)
      << "acquired" << std::setw(11) << "contended" << std::setw(16) << "p99 wait"
      << std::setw(16) << "p99 hold" << std::setw(12) << "max hold" << "\n";
  for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
    out << "  " << std::left << std::setw(int(width)) << clip_name(rows[i]->name, width - 1)
        << std::right << std::setw(10) << rows[i]->acquisitions << std::setw(11)
        << rows[i]->contended << std::setw(16) << percentile_text(rows[i]->wait, 0.99)
        << std::setw(16) << percentile_text(rows[i]->hold, 0.99) << std::setw(12)
        << duration_text(double(rows[i]->hold.max_ns)) << "\n";
  more(out, rows.size(), "lock classes");
}

} // namespace

std::string duration_text(double ns) {
  char buffer[32];
  if (ns < 1e3)
    std::snprintf(buffer, sizeof buffer, "%.0f ns", ns);
  else if (ns < 1e6)
    std::snprintf(buffer, sizeof buffer, "%.1f us", ns / 1e3);
  else if (ns < 1e9)
    std::snprintf(buffer, sizeof buffer, "%.1f ms", ns / 1e6);
  else
    std::snprintf(buffer, sizeof buffer, "%.2f s", ns / 1e9);
  return buffer;
}

std::string percentile_text(const histogram &h, double q) {
  histogram::range r = h.percentile_range(q);
  if (r.high - r.low <= r.high / 100)
    return duration_text(double(r.high));
  // Both ends in the unit of the upper one: "16.8-18.9 ms".
  std::string high = duration_text(double(r.high));
  std::string unit = high.substr(high.find(' '));
  double scale = unit == " ns" ? 1 : unit == " us" ? 1e3 : unit == " ms" ? 1e6 : 1e9;
  char low[32];
  std::snprintf(low, sizeof low, unit == " s" ? "%.2f" : unit == " ns" ? "%.0f" : "%.1f",
                double(r.low) / scale);
  return std::string(low) + "-" + high;
}

void render_summary(const report &r, std::ostream &out) {
  summary s = summarize(r);
  out << "coroscope: " << s.started << " coroutines in " << duration_text(r.duration_ms * 1e6)
      << ": " << s.finished << " finished, " << s.failed << " failed";
  if (s.failed != 0)
    out << " (" << plural(r.failure_total, "failure") << ")";
  out << ", " << s.cancelled << " cancelled, ";
  if (s.abandoned != 0)
    out << s.abandoned << " abandoned generators, ";
  out << s.live << " live";
  if (s.live != 0)
    out << " (" << s.suspended << " suspended" << (r.at_exit ? ", leaked at exit" : "") << ")";
  if (!r.terminated_by.empty())
    out << "; stopped by " << r.terminated_by;
  out << "\n";
  if (s.never_started != 0) {
    out << "coroscope: never started: " << plural(s.never_started, "coroutine")
        << " destroyed before their body ran (lazy tasks never awaited):";
    std::vector<const function_stats *> functions;
    for (const function_stats &f : r.functions)
      if (f.never_started != 0)
        functions.push_back(&f);
    std::sort(functions.begin(), functions.end(), [](const auto *a, const auto *b) {
      return std::tie(b->never_started, a->body.function) <
             std::tie(a->never_started, b->body.function);
    });
    for (std::size_t i = 0; i < functions.size() && i < 5; ++i)
      out << (i > 0 ? "," : "") << " " << functions[i]->never_started << " of '"
          << functions[i]->body.function << "' (" << functions[i]->body.where() << ")";
    if (functions.size() > 5)
      out << ", and " << plural(functions.size() - 5, "more function");
    out << "\n";
  }
  out << "coroscope: success " << percent(s.success_rate) << ", errors "
      << percent(s.error_rate) << "; lifetime p50 " << percentile_text(s.duration, 0.5)
      << ", p99 " << percentile_text(s.duration, 0.99) << ", max "
      << duration_text(double(s.duration.max_ns)) << "\n";

  if (r.slow_step_total != 0) {
    std::vector<const slow_step *> worst;
    for (const slow_step &step : r.slow_steps)
      worst.push_back(&step);
    std::sort(worst.begin(), worst.end(), [](const slow_step *a, const slow_step *b) {
      return a->duration_ns > b->duration_ns;
    });
    out << "coroscope: " << plural(r.slow_step_total, "slow step") << " over " << r.slow_ms
        << " ms, worst first:\n";
    for (std::size_t i = 0; i < worst.size() && i < kRows; ++i)
      out << "  " << std::setw(10) << duration_text(double(worst[i]->duration_ns)) << "  "
          << worst[i]->from.function << "  " << worst[i]->from.where() << " -> "
          << worst[i]->to.where() << (worst[i]->in_progress ? " (still running)" : "") << "\n";
    more(out, r.slow_step_total, "slow steps");
  }

  if (!r.functions.empty()) {
    std::vector<const function_stats *> rows;
    for (const function_stats &f : r.functions)
      rows.push_back(&f);
    std::sort(rows.begin(), rows.end(), [](const function_stats *a, const function_stats *b) {
      return std::tie(a->failed, a->slow_steps, a->final_step.max_ns, a->started) >
             std::tie(b->failed, b->slow_steps, b->final_step.max_ns, b->started);
    });
    std::size_t widest = 0;
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
      widest = std::max(widest, rows[i]->body.function.size());
    std::size_t width = column_width(widest, 36, 60);
    out << "coroscope: " << plural(rows.size(), "function") << ", worst first:\n";
    out << "  " << std::left << std::setw(int(width)) << "function" << std::right << std::setw(9)
        << "started" << std::setw(8) << "failed" << std::setw(10) << "cancelled"
        << std::setw(6) << "slow" << std::setw(16) << "p99 life" << "\n";
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
      out << "  " << std::left << std::setw(int(width))
          << clip_name(rows[i]->body.function, width - 1) << std::right << std::setw(9)
          << rows[i]->started << std::setw(8) << rows[i]->failed << std::setw(10)
          << rows[i]->cancelled << std::setw(6) << rows[i]->slow_steps << std::setw(16)
          << percentile_text(rows[i]->duration, 0.99) << "\n";
    more(out, rows.size(), "functions");
  }

  if (!r.sites.empty()) {
    std::vector<const site_stats *> rows;
    for (const site_stats &site : r.sites)
      rows.push_back(&site);
    std::sort(rows.begin(), rows.end(), [](const site_stats *a, const site_stats *b) {
      return a->wait.percentile(0.99) > b->wait.percentile(0.99);
    });
    std::size_t widest = 0;
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
      widest = std::max(widest, rows[i]->at.where().size());
    std::size_t width = column_width(widest, 36, 56);
    out << "coroscope: " << plural(rows.size(), "await site") << " by p99 wait:\n";
    // The IR engine's awaits that did not suspend, when there are any.
    bool ready = std::any_of(rows.begin(), rows.end(),
                             [](const site_stats *site) { return site->ready != 0; });
    out << "  " << std::left << std::setw(int(width)) << "site" << std::right << std::setw(10)
        << "count";
    if (ready)
      out << std::setw(10) << "ready";
    out << std::setw(16) << "p50 wait" << std::setw(16) << "p99 wait" << std::setw(12)
        << "max wait" << "\n";
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i) {
      out << "  " << std::left << std::setw(int(width))
          << clip_left(rows[i]->at.where(), width - 1) << std::right << std::setw(10)
          << rows[i]->count;
      if (ready)
        out << std::setw(10) << rows[i]->ready;
      out << std::setw(16) << percentile_text(rows[i]->wait, 0.5) << std::setw(16)
          << percentile_text(rows[i]->wait, 0.99) << std::setw(12)
          << duration_text(double(rows[i]->wait.max_ns)) << "\n";
    }
    more(out, rows.size(), "sites");
  }

  render_long_waits(r, out, r.hangs, r.hang_total, "hangs", "suspended");
  render_long_waits(r, out, r.queued, r.queued_total, "queueing",
                    "for a turn on an executor");

  if (r.failure_total != 0)
    out << "coroscope: " << plural(r.failure_total, "failure") << " ("
        << plural(s.failed, "coroutine") << " failed); first ones:\n";
  for (std::size_t i = 0; i < r.failures.size() && i < kRows; ++i) {
    const coroutine &c = r.failures[i];
    out << "  " << c.body.function << ": " << c.exception_type;
    if (!c.exception_what.empty())
      out << ": " << c.exception_what;
    out << " (at " << c.site.where() << ")";
    if (!c.propagated_to.empty()) {
      out << ", propagated to " << c.propagated_to.front();
      if (c.propagated_to.size() > 1)
        out << " and " << c.propagated_to.size() - 1 << " more awaiters";
    }
    out << "\n";
  }
  if (r.failure_total != 0)
    more(out, r.failure_total, "failures");
  render_locks(r.locks, out);
  if (r.at_exit) {
    std::size_t leaked = 0;
    for (const coroutine &c : r.live)
      if (c.state == "suspended") {
        if (++leaked <= kRows)
          out << "coroscope: leaked: " << c.body.function << " suspended at " << c.site.where()
              << " for " << duration_text(double(c.in_state_ns)) << "\n";
      }
    if (leaked > kRows)
      out << "coroscope: ... and " << leaked - kRows << " more leaked\n";
  }
  if (r.system.known)
    render_system(r.system, r.processes.size(), out);
  if (s.unattributed != 0)
    out << "coroscope: the statistics by function and site are partial: "
        << plural(s.unattributed, "coroutine") << " of " << s.started + s.never_started
        << " not counted there (their statistics blocks were dropped; "
           "COROSCOPE_MAX_SITES raises the limit)\n";
  std::uint64_t dropped = 0;
  for (const auto &[what, n] : r.drops)
    dropped += n;
  if (dropped != 0) {
    out << "coroscope: dropped (buffers full):";
    for (const auto &[what, n] : r.drops)
      if (n != 0)
        out << " " << what << "=" << n;
    out << "\n";
  }
}

} // namespace coroscope::report
