#include "coroscope/report.hpp"

#include "coroscope/coroscope.hpp"
#include "json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <tuple>

namespace coroscope::report {

void histogram::merge(const histogram &other) {
  count += other.count;
  sum_ns += other.sum_ns;
  max_ns = std::max(max_ns, other.max_ns);
  for (auto [index, n] : other.buckets)
    buckets[index] += n;
}

std::uint64_t histogram::percentile(double q) const {
  if (count == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * double(count)));
  rank = std::clamp<std::uint64_t>(rank, 1, count);
  std::uint64_t seen = 0;
  for (auto [index, n] : buckets) {
    seen += n;
    if (seen >= rank) {
      std::uint64_t upper = index + 1 < detail::kBucketCount
                                ? detail::bucket_floor(index + 1) - 1
                                : max_ns;
      return std::min(upper, max_ns);
    }
  }
  return max_ns;
}

std::string location::where() const {
  std::string text = file.empty() ? "<unknown>" : file;
  // Appended piece by piece: g++ 12 warns (-Wrestrict) on ":" + to_string().
  if (line != 0) {
    text += ':';
    text += std::to_string(line);
  }
  if (column != 0) {
    text += ':';
    text += std::to_string(column);
  }
  return text;
}

summary summarize(const report &r) {
  summary s;
  for (const function_stats &f : r.functions) {
    s.started += f.started;
    s.finished += f.finished;
    s.failed += f.failed;
    s.cancelled += f.cancelled;
    s.duration.merge(f.duration);
  }
  s.running = r.live_running;
  s.suspended = r.live_suspended;
  s.live = s.running + s.suspended;
  std::uint64_t ended = s.finished + s.failed + s.cancelled;
  if (ended != 0) {
    s.success_rate = double(s.finished) / double(ended);
    s.error_rate = double(s.failed) / double(ended);
  }
  return s;
}

// --- Writing ------------------------------------------------------------------

namespace {

void write_location(json::writer &w, const location &l) {
  w.begin_object();
  w.key("function").value(l.function);
  w.key("file").value(l.file);
  w.key("line").value(l.line);
  w.key("column").value(l.column);
  w.end_object();
}

void write_histogram(json::writer &w, const histogram &h) {
  w.begin_object();
  w.key("count").value(h.count);
  w.key("sum_ns").value(h.sum_ns);
  w.key("mean_ns").value(h.mean_ns());
  w.key("p50_ns").value(h.percentile(0.50));
  w.key("p90_ns").value(h.percentile(0.90));
  w.key("p99_ns").value(h.percentile(0.99));
  w.key("max_ns").value(h.max_ns);
  w.key("buckets").begin_array();
  for (auto [index, n] : h.buckets) {
    w.begin_array();
    w.value(index).value(n);
    w.end_array();
  }
  w.end_array();
  w.end_object();
}

void write_coroutine(json::writer &w, const coroutine &c) {
  w.begin_object();
  w.key("id").value(c.id);
  w.key("parent").value(c.parent);
  w.key("name").value(c.name);
  w.key("state").value(c.state);
  w.key("body");
  write_location(w, c.body);
  w.key("site");
  write_location(w, c.site);
  w.key("age_ns").value(c.age_ns);
  w.key("in_state_ns").value(c.in_state_ns);
  w.key("running_ns").value(c.running_ns);
  w.key("suspended_ns").value(c.suspended_ns);
  w.key("suspensions").value(c.suspensions);
  w.key("cross_thread_resumptions").value(c.cross_thread_resumptions);
  w.key("max_step_ns").value(c.max_step_ns);
  w.key("max_step_from");
  write_location(w, c.max_step_from);
  w.key("max_step_to");
  write_location(w, c.max_step_to);
  if (!c.exception_type.empty() || c.state == "failed") {
    w.key("exception").begin_object();
    w.key("type").value(c.exception_type);
    w.key("what").value(c.exception_what);
    w.end_object();
  }
  w.key("parents").begin_array();
  for (const std::string &p : c.parents)
    w.value(p);
  w.end_array();
  w.end_object();
}

} // namespace

std::string to_json(const report &r) {
  std::string out;
  json::writer w(out);
  summary s = summarize(r);
  w.begin_object();
  w.key("schema").value(kSchemaName);
  w.key("version").value(r.version);
  w.key("processes").begin_array();
  for (const std::string &p : r.processes)
    w.value(p);
  w.end_array();
  w.key("duration_ms").value(r.duration_ms);
  w.key("clock").value(r.clock);
  w.key("at_exit").value(r.at_exit);
  if (!r.terminated_by.empty())
    w.key("terminated_by").value(r.terminated_by);
  w.key("config").begin_object();
  w.key("slow_ms").value(r.slow_ms);
  w.key("hang_ms").value(r.hang_ms);
  w.end_object();

  w.key("summary").begin_object();
  w.key("started").value(s.started);
  w.key("finished").value(s.finished);
  w.key("failed").value(s.failed);
  w.key("cancelled").value(s.cancelled);
  w.key("live").value(s.live);
  w.key("running").value(s.running);
  w.key("suspended").value(s.suspended);
  w.key("success_rate").value(s.success_rate);
  w.key("error_rate").value(s.error_rate);
  w.key("slow_steps").value(r.slow_step_total);
  w.key("hangs").value(r.hang_total);
  w.key("duration");
  write_histogram(w, s.duration);
  w.key("last_minute").begin_object();
  w.key("started").value(r.recent.started);
  w.key("finished").value(r.recent.finished);
  w.key("failed").value(r.recent.failed);
  w.key("cancelled").value(r.recent.cancelled);
  w.end_object();
  w.end_object();

  w.key("functions").begin_array();
  for (const function_stats &f : r.functions) {
    w.begin_object();
    w.key("body");
    write_location(w, f.body);
    w.key("started").value(f.started);
    w.key("finished").value(f.finished);
    w.key("failed").value(f.failed);
    w.key("cancelled").value(f.cancelled);
    w.key("slow_steps").value(f.slow_steps);
    w.key("suspensions").value(f.suspensions);
    w.key("cross_thread_resumptions").value(f.cross_thread_resumptions);
    w.key("running_ns").value(f.running_ns);
    w.key("suspended_ns").value(f.suspended_ns);
    w.key("duration");
    write_histogram(w, f.duration);
    w.key("final_step");
    write_histogram(w, f.final_step);
    w.end_object();
  }
  w.end_array();

  w.key("sites").begin_array();
  for (const site_stats &site : r.sites) {
    w.begin_object();
    w.key("at");
    write_location(w, site.at);
    w.key("kind").value(site.kind);
    w.key("count").value(site.count);
    w.key("wait");
    write_histogram(w, site.wait);
    w.key("step");
    write_histogram(w, site.step);
    w.end_object();
  }
  w.end_array();

  w.key("slow_steps").begin_array();
  for (const slow_step &step : r.slow_steps) {
    w.begin_object();
    w.key("coroutine").value(step.coroutine);
    w.key("name").value(step.name);
    w.key("from");
    write_location(w, step.from);
    w.key("to");
    write_location(w, step.to);
    w.key("thread").value(step.thread);
    w.key("duration_ns").value(step.duration_ns);
    w.key("at_ms").value(step.at_ms);
    w.key("in_progress").value(step.in_progress);
    w.end_object();
  }
  w.end_array();

  w.key("hangs").begin_array();
  for (const hang &h : r.hangs) {
    w.begin_object();
    w.key("coroutine");
    write_coroutine(w, h.who);
    w.key("waited_ns").value(h.waited_ns);
    w.key("resolved").value(h.resolved);
    w.key("at_ms").value(h.at_ms);
    w.end_object();
  }
  w.end_array();

  w.key("failures").begin_array();
  for (const coroutine &c : r.failures)
    write_coroutine(w, c);
  w.end_array();
  w.key("cancelled").begin_array();
  for (const coroutine &c : r.cancelled)
    write_coroutine(w, c);
  w.end_array();
  w.key("live").begin_array();
  for (const coroutine &c : r.live)
    write_coroutine(w, c);
  w.end_array();

  w.key("drops").begin_object();
  for (const auto &[what, n] : r.drops)
    w.key(what).value(n);
  w.end_object();
  w.end_object();
  out += '\n';
  return out;
}

// --- Merging ------------------------------------------------------------------

report merge(const std::vector<report> &reports) {
  report merged;
  using function_key = std::tuple<std::string, std::string, std::uint32_t>;
  using site_key = std::tuple<std::string, std::uint32_t, std::uint32_t, std::string, std::string>;
  std::map<function_key, function_stats> functions;
  std::map<site_key, site_stats> sites;
  merged.at_exit = !reports.empty();
  for (const report &r : reports) {
    merged.processes.insert(merged.processes.end(), r.processes.begin(), r.processes.end());
    merged.duration_ms = std::max(merged.duration_ms, r.duration_ms);
    if (merged.clock.empty())
      merged.clock = r.clock;
    else if (merged.clock != r.clock && merged.clock.find(r.clock) == std::string::npos)
      merged.clock += "," + r.clock;
    if (merged.slow_ms == 0) {
      merged.slow_ms = r.slow_ms;
      merged.hang_ms = r.hang_ms;
    }
    merged.at_exit = merged.at_exit && r.at_exit;
    merged.recent.started += r.recent.started;
    merged.recent.finished += r.recent.finished;
    merged.recent.failed += r.recent.failed;
    merged.recent.cancelled += r.recent.cancelled;
    for (const function_stats &f : r.functions) {
      function_stats &into = functions[{f.body.function, f.body.file, f.body.line}];
      into.body = f.body;
      into.started += f.started;
      into.finished += f.finished;
      into.failed += f.failed;
      into.cancelled += f.cancelled;
      into.slow_steps += f.slow_steps;
      into.suspensions += f.suspensions;
      into.cross_thread_resumptions += f.cross_thread_resumptions;
      into.running_ns += f.running_ns;
      into.suspended_ns += f.suspended_ns;
      into.duration.merge(f.duration);
      into.final_step.merge(f.final_step);
    }
    for (const site_stats &s : r.sites) {
      site_stats &into = sites[{s.at.file, s.at.line, s.at.column, s.kind, s.at.function}];
      into.at = s.at;
      into.kind = s.kind;
      into.count += s.count;
      into.wait.merge(s.wait);
      into.step.merge(s.step);
    }
    merged.slow_steps.insert(merged.slow_steps.end(), r.slow_steps.begin(), r.slow_steps.end());
    merged.slow_step_total += r.slow_step_total;
    merged.hangs.insert(merged.hangs.end(), r.hangs.begin(), r.hangs.end());
    merged.hang_total += r.hang_total;
    merged.failures.insert(merged.failures.end(), r.failures.begin(), r.failures.end());
    merged.cancelled.insert(merged.cancelled.end(), r.cancelled.begin(), r.cancelled.end());
    merged.live.insert(merged.live.end(), r.live.begin(), r.live.end());
    merged.live_running += r.live_running;
    merged.live_suspended += r.live_suspended;
    for (const auto &[what, n] : r.drops)
      merged.drops[what] += n;
  }
  for (auto &entry : functions)
    merged.functions.push_back(std::move(entry.second));
  for (auto &entry : sites)
    merged.sites.push_back(std::move(entry.second));
  return merged;
}

// --- The human summary --------------------------------------------------------

namespace {

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

std::string percent(double rate) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", rate * 100);
  return buffer;
}

std::string clip(std::string text, std::size_t width) {
  if (text.size() > width)
    text = text.substr(0, width - 1) + "~";
  return text;
}

// A location keeps its end, file name and line, when it is too wide.
std::string clip_left(std::string text, std::size_t width) {
  if (text.size() > width)
    text = "~" + text.substr(text.size() - (width - 1));
  return text;
}

} // namespace

void render_summary(const report &r, std::ostream &out) {
  constexpr std::size_t kRows = 5;
  summary s = summarize(r);
  out << "coroscope: " << s.started << " coroutines in " << duration_text(r.duration_ms * 1e6)
      << ": " << s.finished << " finished, " << s.failed << " failed, " << s.cancelled
      << " cancelled, " << s.live << " live";
  if (s.live != 0)
    out << " (" << s.suspended << " suspended" << (r.at_exit ? ", leaked at exit" : "") << ")";
  if (!r.terminated_by.empty())
    out << "; stopped by " << r.terminated_by;
  out << "\n";
  out << "coroscope: success " << percent(s.success_rate) << ", errors "
      << percent(s.error_rate) << "; lifetime p50 " << duration_text(double(s.duration.percentile(0.5)))
      << ", p99 " << duration_text(double(s.duration.percentile(0.99))) << ", max "
      << duration_text(double(s.duration.max_ns)) << "\n";

  if (r.slow_step_total != 0) {
    std::vector<const slow_step *> worst;
    for (const slow_step &step : r.slow_steps)
      worst.push_back(&step);
    std::sort(worst.begin(), worst.end(), [](const slow_step *a, const slow_step *b) {
      return a->duration_ns > b->duration_ns;
    });
    out << "coroscope: " << r.slow_step_total << " slow step" << (r.slow_step_total == 1 ? "" : "s")
        << " over " << r.slow_ms << " ms, worst first:\n";
    for (std::size_t i = 0; i < worst.size() && i < kRows; ++i)
      out << "  " << std::setw(10) << duration_text(double(worst[i]->duration_ns)) << "  "
          << worst[i]->from.function << "  " << worst[i]->from.where() << " -> "
          << worst[i]->to.where() << (worst[i]->in_progress ? " (still running)" : "") << "\n";
  }

  if (!r.functions.empty()) {
    std::vector<const function_stats *> rows;
    for (const function_stats &f : r.functions)
      rows.push_back(&f);
    std::sort(rows.begin(), rows.end(), [](const function_stats *a, const function_stats *b) {
      return std::tie(a->failed, a->slow_steps, a->final_step.max_ns, a->started) >
             std::tie(b->failed, b->slow_steps, b->final_step.max_ns, b->started);
    });
    out << "coroscope: functions, worst first:\n";
    out << "  " << std::left << std::setw(36) << "function" << std::right << std::setw(9)
        << "started" << std::setw(8) << "failed" << std::setw(10) << "cancelled"
        << std::setw(6) << "slow" << std::setw(12) << "p99 life" << "\n";
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
      out << "  " << std::left << std::setw(36) << clip(rows[i]->body.function, 35) << std::right
          << std::setw(9) << rows[i]->started << std::setw(8) << rows[i]->failed
          << std::setw(10) << rows[i]->cancelled << std::setw(6) << rows[i]->slow_steps
          << std::setw(12) << duration_text(double(rows[i]->duration.percentile(0.99))) << "\n";
  }

  if (!r.sites.empty()) {
    std::vector<const site_stats *> rows;
    for (const site_stats &site : r.sites)
      rows.push_back(&site);
    std::sort(rows.begin(), rows.end(), [](const site_stats *a, const site_stats *b) {
      return a->wait.percentile(0.99) > b->wait.percentile(0.99);
    });
    out << "coroscope: await sites by p99 wait:\n";
    out << "  " << std::left << std::setw(36) << "site" << std::right << std::setw(9) << "count"
        << std::setw(12) << "p50 wait" << std::setw(12) << "p99 wait" << std::setw(12)
        << "max wait" << "\n";
    for (std::size_t i = 0; i < rows.size() && i < kRows; ++i)
      out << "  " << std::left << std::setw(36) << clip_left(rows[i]->at.where(), 35) << std::right
          << std::setw(9) << rows[i]->count << std::setw(12)
          << duration_text(double(rows[i]->wait.percentile(0.5))) << std::setw(12)
          << duration_text(double(rows[i]->wait.percentile(0.99))) << std::setw(12)
          << duration_text(double(rows[i]->wait.max_ns)) << "\n";
  }

  for (std::size_t i = 0; i < r.failures.size() && i < kRows; ++i) {
    const coroutine &c = r.failures[i];
    out << "coroscope: failed: " << c.body.function << ": " << c.exception_type;
    if (!c.exception_what.empty())
      out << ": " << c.exception_what;
    out << " (last at " << c.site.where() << ")\n";
  }
  if (r.failures.size() > kRows)
    out << "coroscope: ... and " << r.failures.size() - kRows << " more failures\n";
  for (std::size_t i = 0; i < r.hangs.size() && i < kRows; ++i)
    out << "coroscope: hang: " << r.hangs[i].who.body.function << " waited "
        << duration_text(double(r.hangs[i].waited_ns)) << " at " << r.hangs[i].who.site.where()
        << (r.hangs[i].resolved ? " (then resumed)" : "") << "\n";
  if (r.at_exit)
    for (std::size_t i = 0, shown = 0; i < r.live.size() && shown < kRows; ++i)
      if (r.live[i].state == "suspended") {
        ++shown;
        out << "coroscope: leaked: " << r.live[i].body.function << " suspended at "
            << r.live[i].site.where() << " for " << duration_text(double(r.live[i].in_state_ns))
            << "\n";
      }
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
