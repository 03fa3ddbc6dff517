// The report model's arithmetic: histogram percentiles, the derived summary,
// and merging reports from many processes.
#include "coroscope/report.hpp"

#include "coroscope/coroscope.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace coroscope::report {

void histogram::merge(const histogram &other) {
  if (other.count == 0)
    return;
  min_ns = count == 0 ? other.min_ns : std::min(min_ns, other.min_ns);
  count += other.count;
  sum_ns += other.sum_ns;
  max_ns = std::max(max_ns, other.max_ns);
  for (auto [index, n] : other.buckets)
    buckets[index] += n;
}

histogram::range histogram::percentile_range(double q) const {
  if (count == 0)
    return {};
  auto rank = static_cast<std::uint64_t>(std::ceil(q * double(count)));
  rank = std::clamp<std::uint64_t>(rank, 1, count);
  std::uint64_t seen = 0;
  for (auto [index, n] : buckets) {
    seen += n;
    if (seen < rank)
      continue;
    std::uint64_t low = detail::bucket_floor(index);
    std::uint64_t high =
        index + 1 < detail::kBucketCount ? detail::bucket_floor(index + 1) - 1 : max_ns;
    low = std::clamp(low, min_ns, max_ns);
    high = std::clamp(high, low, max_ns);
    return {low, high};
  }
  return {max_ns, max_ns};
}

std::string display_name(const coroutine &c) {
  if (c.name.empty())
    return c.body.function;
  return c.body.function + (c.named ? " \"" + c.name + "\"" : " (" + c.name + ")");
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
    s.abandoned += f.abandoned;
    s.never_started += f.never_started;
    s.duration.merge(f.duration);
  }
  if (r.exact.known) {
    std::uint64_t attributed = s.started + s.never_started;
    s.started = r.exact.started;
    s.finished = r.exact.finished;
    s.failed = r.exact.failed;
    s.cancelled = r.exact.cancelled;
    s.abandoned = r.exact.abandoned;
    s.never_started = r.exact.never_started;
    std::uint64_t all = s.started + s.never_started;
    s.unattributed = all > attributed ? all - attributed : 0;
  }
  s.running = r.live_running;
  s.suspended = r.live_suspended;
  s.live = s.running + s.suspended;
  std::uint64_t ended = s.finished + s.failed + s.cancelled + s.abandoned;
  if (ended != 0) {
    s.success_rate = double(s.finished + s.abandoned) / double(ended);
    s.error_rate = double(s.failed) / double(ended);
  }
  return s;
}

namespace {

using location_key = std::tuple<std::string, std::string, std::uint32_t, std::uint32_t>;

location_key key_of(const location &l) { return {l.file, l.function, l.line, l.column}; }

void merge_edges(std::vector<caller_edge> &into, const std::vector<caller_edge> &from) {
  for (const caller_edge &e : from) {
    auto same = std::find_if(into.begin(), into.end(), [&](const caller_edge &x) {
      return key_of(x.function) == key_of(e.function);
    });
    if (same != into.end())
      same->count += e.count;
    else
      into.push_back(e);
  }
}

void merge_long_waits(std::map<location_key, long_waits> &into,
                      const std::vector<long_waits> &from) {
  for (const long_waits &w : from) {
    auto [it, fresh] = into.try_emplace(key_of(w.site), w);
    if (fresh)
      continue;
    long_waits &m = it->second;
    m.count += w.count;
    m.resolved += w.resolved;
    m.first_at_ms = std::min(m.first_at_ms, w.first_at_ms);
    if (w.worst_ns > m.worst_ns) {
      m.worst_ns = w.worst_ns;
      m.worst = w.worst;
    }
  }
}

std::vector<long_waits> worst_first(std::map<location_key, long_waits> &merged) {
  std::vector<long_waits> out;
  for (auto &entry : merged)
    out.push_back(std::move(entry.second));
  std::sort(out.begin(), out.end(), [](const long_waits &a, const long_waits &b) {
    return std::tie(b.worst_ns, a.site.file, a.site.line, a.site.column) <
           std::tie(a.worst_ns, b.site.file, b.site.line, b.site.column);
  });
  return out;
}

void merge_locks(locks_section &into, const locks_section &from) {
  for (const lock_class_stats &c : from.classes) {
    auto same = std::find_if(into.classes.begin(), into.classes.end(),
                             [&](const lock_class_stats &x) { return x.name == c.name; });
    if (same == into.classes.end()) {
      into.classes.push_back(c);
      continue;
    }
    same->acquisitions += c.acquisitions;
    same->contended += c.contended;
    same->wait.merge(c.wait);
    same->hold.merge(c.hold);
    if (c.longest_hold_ns > same->longest_hold_ns) {
      same->longest_hold_ns = c.longest_hold_ns;
      same->longest_from = c.longest_from;
      same->longest_to = c.longest_to;
      same->longest_holder = c.longest_holder;
    }
  }
  for (const lock_held_across &h : from.held_across_suspension) {
    auto same = std::find_if(
        into.held_across_suspension.begin(), into.held_across_suspension.end(),
        [&](const lock_held_across &x) {
          return x.lock == h.lock && key_of(x.acquired_at) == key_of(h.acquired_at) &&
                 key_of(x.suspended_at) == key_of(h.suspended_at);
        });
    if (same == into.held_across_suspension.end()) {
      into.held_across_suspension.push_back(h);
      continue;
    }
    same->count += h.count;
    same->other_thread += h.other_thread;
    same->suspended_ns += h.suspended_ns;
    same->max_suspended_ns = std::max(same->max_suspended_ns, h.max_suspended_ns);
  }
  for (const lock_foreign_release &f : from.released_on_other_thread) {
    auto same = std::find_if(
        into.released_on_other_thread.begin(), into.released_on_other_thread.end(),
        [&](const lock_foreign_release &x) {
          return x.lock == f.lock && key_of(x.acquired_at) == key_of(f.acquired_at) &&
                 key_of(x.released_at) == key_of(f.released_at);
        });
    if (same == into.released_on_other_thread.end())
      into.released_on_other_thread.push_back(f);
    else
      same->count += f.count;
  }
  for (const lock_order &o : from.orders)
    if (std::none_of(into.orders.begin(), into.orders.end(), [&](const lock_order &x) {
          return x.first == o.first && x.second == o.second;
        }))
      into.orders.push_back(o);
  auto classes_of = [](const lock_cycle &c) {
    std::vector<std::string> names;
    for (const lock_order &o : c.orders)
      names.push_back(o.first);
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const lock_cycle &c : from.cycles)
    if (std::none_of(into.cycles.begin(), into.cycles.end(),
                     [&](const lock_cycle &x) { return classes_of(x) == classes_of(c); }))
      into.cycles.push_back(c);
  into.deadlocks.insert(into.deadlocks.end(), from.deadlocks.begin(), from.deadlocks.end());
  into.unmatched_releases += from.unmatched_releases;
}

} // namespace

report merge(const std::vector<report> &reports) {
  report merged;
  using function_key = std::tuple<std::string, std::string, std::uint32_t>;
  using site_key = std::tuple<std::string, std::uint32_t, std::uint32_t, std::string, std::string>;
  std::map<function_key, function_stats> functions;
  std::map<site_key, site_stats> sites;
  std::map<location_key, long_waits> hangs, queued;
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
    if (r.system.known) {
      system_usage &u = merged.system;
      u.known = true;
      u.user_cpu_s += r.system.user_cpu_s;
      u.system_cpu_s += r.system.system_cpu_s;
      u.rss_bytes += r.system.rss_bytes;
      u.peak_rss_bytes = std::max(u.peak_rss_bytes, r.system.peak_rss_bytes);
      u.threads += r.system.threads;
      u.peak_threads = std::max(u.peak_threads, r.system.peak_threads);
      u.voluntary_switches += r.system.voluntary_switches;
      u.involuntary_switches += r.system.involuntary_switches;
      u.samples += r.system.samples;
    }
    {
      // Each report's own best counts: exact, or its functions' sums.
      summary counts = summarize(r);
      totals &t = merged.exact;
      t.known = true;
      t.started += counts.started;
      t.finished += counts.finished;
      t.failed += counts.failed;
      t.cancelled += counts.cancelled;
      t.abandoned += counts.abandoned;
      t.never_started += counts.never_started;
    }
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
      into.abandoned += f.abandoned;
      into.never_started += f.never_started;
      into.slow_steps += f.slow_steps;
      into.suspensions += f.suspensions;
      into.cross_thread_resumptions += f.cross_thread_resumptions;
      into.running_ns += f.running_ns;
      into.suspended_ns += f.suspended_ns;
      into.duration.merge(f.duration);
      into.final_step.merge(f.final_step);
      merge_edges(into.awaited_by, f.awaited_by);
      merge_edges(into.spawned_by, f.spawned_by);
    }
    for (const site_stats &s : r.sites) {
      site_stats &into = sites[{s.at.file, s.at.line, s.at.column, s.kind, s.at.function}];
      into.at = s.at;
      into.kind = s.kind;
      into.waits_for = s.waits_for;
      into.count += s.count;
      into.ready += s.ready;
      into.wait.merge(s.wait);
      into.step.merge(s.step);
    }
    merged.slow_steps.insert(merged.slow_steps.end(), r.slow_steps.begin(), r.slow_steps.end());
    merged.slow_step_total += r.slow_step_total;
    merge_long_waits(hangs, r.hangs);
    merge_long_waits(queued, r.queued);
    merged.hang_total += r.hang_total;
    merged.queued_total += r.queued_total;
    merged.failures.insert(merged.failures.end(), r.failures.begin(), r.failures.end());
    merged.failure_total += r.failure_total;
    merged.cancelled.insert(merged.cancelled.end(), r.cancelled.begin(), r.cancelled.end());
    merged.live.insert(merged.live.end(), r.live.begin(), r.live.end());
    merged.live_running += r.live_running;
    merged.live_suspended += r.live_suspended;
    merge_locks(merged.locks, r.locks);
    for (const auto &[what, n] : r.drops)
      merged.drops[what] += n;
  }
  for (auto &entry : functions)
    merged.functions.push_back(std::move(entry.second));
  for (auto &entry : sites)
    merged.sites.push_back(std::move(entry.second));
  merged.hangs = worst_first(hangs);
  merged.queued = worst_first(queued);
  return merged;
}

} // namespace coroscope::report
