// Reading the live registry into the report model: describing a frame, the
// live coroutines, await chains, the report snapshot, and the async-stack
// dump (asyncio's pstree, in process).
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include "coroscope/output.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <tuple>
#include <unistd.h>

namespace coroscope::detail {

// Reads a frame; the caller holds the frame's shard lock (or owns it).
report::coroutine describe(const frame &f, std::int64_t now) {
  report::coroutine c;
  c.id = f.id_;
  c.parent = f.parent_id_;
  c.creator = f.creator_id_;
  if (f.creation_site_ != nullptr)
    c.created_at = location_of(f.creation_site_, f.creator_body_);
  c.name = frame_name(f);
  c.named = f.name_[0] != '\0';
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
      if (inherited_from_parent(*f))
        continue;
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
  std::string text = report::display_name(c);
  text += " [" + c.state + "] at " + c.site.where();
  return text;
}

namespace {

// The live coroutine `id`, described; a walk of the registry under each
// shard lock that copies nothing else, so a chain costs no allocation per
// live coroutine (a million of them are queued in libcoro's benchmarks).
std::optional<report::coroutine> find_live(std::uint64_t id, std::int64_t now) {
  for (shard &s : rt().shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_)
      if (f->id_ == id && !inherited_from_parent(*f))
        return describe(*f, now);
  }
  return std::nullopt;
}

} // namespace

// The await chain above `parent`: the coroutines awaiting one another.
std::vector<std::string> parent_chain(std::uint64_t parent) {
  std::vector<std::string> chain;
  std::int64_t now = now_ticks();
  for (int depth = 0; parent != 0 && depth < 64; ++depth) {
    std::optional<report::coroutine> found = find_live(parent, now);
    if (!found) {
      chain.push_back("#" + std::to_string(parent) + " (already ended)");
      break;
    }
    chain.push_back(chain_entry(*found));
    parent = found->parent;
  }
  return chain;
}

std::string process_label() {
  std::string name = "?";
  std::ifstream cmdline("/proc/self/cmdline");
  std::getline(cmdline, name, '\0');
  return name + " (pid " + std::to_string(::getpid()) + ")";
}

report::histogram read_histogram(const histogram &h) {
  report::histogram out;
  out.count = h.count.get();
  out.sum_ns = h.sum_ns.get();
  out.max_ns = h.max_ns.get();
  std::uint64_t min = h.min_plus_one.get();
  out.min_ns = min != 0 ? min - 1 : 0;
  for (int i = 0; i < kBucketCount; ++i)
    if (std::uint64_t n = h.buckets[i].get())
      out.buckets[i] = n;
  return out;
}

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
  out.system = system_usage_for_report();

  std::map<const site *, report::function_stats> functions;
  std::map<const site *, report::site_stats> sites;
  auto site_entry = [&sites](const site *where) -> report::site_stats & {
    report::site_stats &site = sites[where];
    site.at = location_of(where, nullptr);
    site.kind = is_yield(where) ? "yield" : "await";
    site.waits_for = waits_for_name(where->waits_for);
    return site;
  };
  auto read = read_histogram;
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
          f.abandoned += s->abandoned.get();
          f.never_started += s->never_started.get();
          f.slow_steps += s->slow_steps.get();
          f.suspensions += s->suspensions.get();
          f.cross_thread_resumptions += s->cross_thread_resumptions.get();
          f.running_ns += s->running_ns.get();
          f.suspended_ns += s->suspended_ns.get();
          f.duration.merge(read(s->wait));
          f.final_step.merge(read(s->step));
        } else {
          report::site_stats &site = site_entry(s->where);
          site.wait.merge(read(s->wait));
          site.step.merge(read(s->step));
          site.count = site.wait.count;
        }
      }
    // The awaited-by graph, folded per pair of functions.
    std::map<std::tuple<const site *, const site *, bool>, std::uint64_t> edges;
    for (thread_record *t : r.threads)
      for (edge_stats *e = t->edge_list.load(std::memory_order_acquire); e != nullptr;
           e = e->next_in_thread)
        if (std::uint64_t n = e->count.get())
          edges[{e->child, e->parent, e->awaited}] += n;
    for (const auto &[key, n] : edges) {
      auto [child, parent, awaited] = key;
      report::function_stats &f = functions[child];
      f.body = location_of(child, child);
      (awaited ? f.awaited_by : f.spawned_by).push_back({location_of(parent, parent), n});
    }
  }
  // The IR engine's awaits that did not suspend: sites that may never have
  // suspended.
  for_each_ready_count(
      [&](const site *where, std::uint64_t n) { site_entry(where).ready += n; });
  // Blocks zeroed by a fork or a test reset stay allocated; they are not
  // functions or sites of this run.
  for (auto &[where, f] : functions)
    if (f.started + f.finished + f.failed + f.cancelled + f.abandoned + f.never_started != 0 ||
        !f.awaited_by.empty() || !f.spawned_by.empty())
      out.functions.push_back(std::move(f));
  for (auto &[where, s] : sites)
    if (s.wait.count + s.step.count + s.ready != 0)
      out.sites.push_back(std::move(s));

  {
    std::lock_guard guard(r.records_lock);
    out.slow_steps = r.slow_steps;
    for (const auto &[where, waits] : r.hangs)
      out.hangs.push_back(waits);
    for (const auto &[where, waits] : r.queued)
      out.queued.push_back(waits);
    out.failures = r.failures;
    out.cancelled = r.cancelled;
  }
  auto worst_first = [](const report::long_waits &a, const report::long_waits &b) {
    return std::tie(b.worst_ns, a.site.file, a.site.line, a.site.column) <
           std::tie(a.worst_ns, b.site.file, b.site.line, b.site.column);
  };
  std::sort(out.hangs.begin(), out.hangs.end(), worst_first);
  std::sort(out.queued.begin(), out.queued.end(), worst_first);
  out.slow_step_total = r.slow_total.load();
  out.hang_total = r.hang_total.load();
  out.queued_total = r.queued_total.load();
  out.failure_total = r.failure_total.load();

  std::uint64_t live_dropped = 0;
  out.live = live_coroutines(r.cfg.max_records, &live_dropped, &out.live_running,
                             &out.live_suspended);

  auto now_second = seconds_since_start(now_ticks());
  out.exact.known = true;
  out.exact.never_started = r.never_started_total.load();
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    out.exact.started += s.fates[fate_started];
    out.exact.finished += s.fates[fate_finished];
    out.exact.failed += s.fates[fate_failed];
    out.exact.cancelled += s.fates[fate_cancelled];
    out.exact.abandoned += s.fates[fate_abandoned];
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
  collect_locks(out, now_ticks());
  return out;
}

bool write_now(const std::string &path, const char *what,
               const std::function<std::string()> &contents) {
  try {
    std::string error;
    if (output::write_file(path, contents(), error, {.in_host_process = true}) ==
        output::status::written)
      return true;
    std::fprintf(stderr, "coroscope: error: cannot write the %s '%s': %s\n", what, path.c_str(),
                 error.c_str());
  } catch (...) {
    std::fprintf(stderr, "coroscope: error: out of memory while writing the %s\n", what);
  }
  return false;
}

} // namespace coroscope::detail

namespace coroscope {

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
        text << indent << (last ? "└── " : "├── ") << "#" << c.id << " "
             << report::display_name(c);
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
  return detail::write_now(path, "report",
                           [] { return report::to_json(detail::make_report(false)); });
}

void print_summary(std::ostream &out) { report::render_summary(detail::make_report(false), out); }

} // namespace coroscope
