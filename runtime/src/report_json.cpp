// The report as JSON (docs/runtime/report-schema.md).
#include "coroscope/report.hpp"

#include "json.hpp"

namespace coroscope::report {
namespace {

void write_location(json::writer &w, const location &l) {
  w.begin_object();
  w.key("function").value(l.function);
  w.key("file").value(l.file);
  w.key("line").value(l.line);
  w.key("column").value(l.column);
  w.end_object();
}

void write_percentile(json::writer &w, const char *name, const histogram &h, double q) {
  histogram::range r = h.percentile_range(q);
  w.key(name).begin_array();
  w.value(r.low).value(r.high);
  w.end_array();
}

void write_histogram(json::writer &w, const histogram &h) {
  w.begin_object();
  w.key("count").value(h.count);
  w.key("sum_ns").value(h.sum_ns);
  w.key("mean_ns").value(h.mean_ns());
  w.key("min_ns").value(h.min_ns);
  w.key("max_ns").value(h.max_ns);
  write_percentile(w, "p50_ns", h, 0.50);
  write_percentile(w, "p90_ns", h, 0.90);
  write_percentile(w, "p99_ns", h, 0.99);
  w.key("buckets").begin_array();
  for (auto [index, n] : h.buckets) {
    w.begin_array();
    w.value(index).value(n);
    w.end_array();
  }
  w.end_array();
  w.end_object();
}

void write_strings(json::writer &w, const char *name, const std::vector<std::string> &list) {
  w.key(name).begin_array();
  for (const std::string &s : list)
    w.value(s);
  w.end_array();
}

void write_coroutine(json::writer &w, const coroutine &c) {
  w.begin_object();
  w.key("id").value(c.id);
  w.key("parent").value(c.parent);
  if (c.creator != 0 || !c.created_at.file.empty()) {
    w.key("creator").value(c.creator);
    w.key("created_at");
    write_location(w, c.created_at);
  }
  w.key("name").value(c.name);
  w.key("named").value(c.named);
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
    write_strings(w, "propagated_to", c.propagated_to);
  }
  write_strings(w, "parents", c.parents);
  w.end_object();
}

void write_edges(json::writer &w, const char *name, const std::vector<caller_edge> &edges) {
  w.key(name).begin_array();
  for (const caller_edge &e : edges) {
    w.begin_object();
    w.key("function");
    write_location(w, e.function);
    w.key("count").value(e.count);
    w.end_object();
  }
  w.end_array();
}

void write_long_waits(json::writer &w, const char *name, const std::vector<long_waits> &list) {
  w.key(name).begin_array();
  for (const long_waits &l : list) {
    w.begin_object();
    w.key("site");
    write_location(w, l.site);
    w.key("waits_for").value(l.waits_for);
    w.key("count").value(l.count);
    w.key("resolved").value(l.resolved);
    w.key("worst_ns").value(l.worst_ns);
    w.key("first_at_ms").value(l.first_at_ms);
    w.key("worst");
    write_coroutine(w, l.worst);
    w.end_object();
  }
  w.end_array();
}

void write_lock_order(json::writer &w, const lock_order &o) {
  w.begin_object();
  w.key("first").value(o.first);
  w.key("second").value(o.second);
  w.key("first_at");
  write_location(w, o.first_at);
  w.key("second_at");
  write_location(w, o.second_at);
  w.key("holder").value(o.holder);
  w.key("thread").value(o.thread);
  w.end_object();
}

void write_locks(json::writer &w, const locks_section &l) {
  w.key("locks").begin_object();
  w.key("classes").begin_array();
  for (const lock_class_stats &c : l.classes) {
    w.begin_object();
    w.key("name").value(c.name);
    w.key("kind").value(c.kind);
    w.key("acquisitions").value(c.acquisitions);
    w.key("contended").value(c.contended);
    w.key("wait");
    write_histogram(w, c.wait);
    w.key("hold");
    write_histogram(w, c.hold);
    w.key("longest_hold_ns").value(c.longest_hold_ns);
    w.key("longest_from");
    write_location(w, c.longest_from);
    w.key("longest_to");
    write_location(w, c.longest_to);
    w.key("longest_holder").value(c.longest_holder);
    w.end_object();
  }
  w.end_array();
  w.key("held_across_suspension").begin_array();
  for (const lock_held_across &h : l.held_across_suspension) {
    w.begin_object();
    w.key("lock").value(h.lock);
    w.key("check").value(h.check);
    w.key("acquired_at");
    write_location(w, h.acquired_at);
    w.key("suspended_at");
    write_location(w, h.suspended_at);
    w.key("coroutine").value(h.coroutine);
    w.key("count").value(h.count);
    w.key("other_thread").value(h.other_thread);
    w.key("suspended_ns").value(h.suspended_ns);
    w.key("max_suspended_ns").value(h.max_suspended_ns);
    w.end_object();
  }
  w.end_array();
  w.key("released_on_other_thread").begin_array();
  for (const lock_foreign_release &f : l.released_on_other_thread) {
    w.begin_object();
    w.key("lock").value(f.lock);
    w.key("acquired_at");
    write_location(w, f.acquired_at);
    w.key("released_at");
    write_location(w, f.released_at);
    w.key("acquired_thread").value(f.acquired_thread);
    w.key("released_thread").value(f.released_thread);
    w.key("holder").value(f.holder);
    w.key("count").value(f.count);
    w.end_object();
  }
  w.end_array();
  w.key("orders").begin_array();
  for (const lock_order &o : l.orders)
    write_lock_order(w, o);
  w.end_array();
  w.key("cycles").begin_array();
  for (const lock_cycle &c : l.cycles) {
    w.begin_object();
    w.key("orders").begin_array();
    for (const lock_order &o : c.orders)
      write_lock_order(w, o);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("deadlocks").begin_array();
  for (const deadlock &d : l.deadlocks) {
    w.begin_object();
    w.key("at_ms").value(d.at_ms);
    w.key("members").begin_array();
    for (const deadlock_member &m : d.members) {
      w.begin_object();
      w.key("who").value(m.who);
      w.key("at");
      write_location(w, m.at);
      w.key("waits_for").value(m.waits_for);
      w.key("lock").value(m.lock);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("unmatched_releases").value(l.unmatched_releases);
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
  w.key("failures").value(r.failure_total);
  w.key("cancelled").value(s.cancelled);
  w.key("abandoned").value(s.abandoned);
  w.key("never_started").value(s.never_started);
  w.key("live").value(s.live);
  w.key("running").value(s.running);
  w.key("suspended").value(s.suspended);
  w.key("success_rate").value(s.success_rate);
  w.key("error_rate").value(s.error_rate);
  w.key("slow_steps").value(r.slow_step_total);
  w.key("hangs").value(r.hang_total);
  w.key("queued").value(r.queued_total);
  w.key("duration");
  write_histogram(w, s.duration);
  w.key("last_minute").begin_object();
  w.key("started").value(r.recent.started);
  w.key("finished").value(r.recent.finished);
  w.key("failed").value(r.recent.failed);
  w.key("cancelled").value(r.recent.cancelled);
  w.end_object();
  w.end_object();

  if (r.system.known) {
    const system_usage &u = r.system;
    w.key("system").begin_object();
    w.key("user_cpu_s").value(u.user_cpu_s);
    w.key("system_cpu_s").value(u.system_cpu_s);
    w.key("rss_bytes").value(u.rss_bytes);
    w.key("peak_rss_bytes").value(u.peak_rss_bytes);
    w.key("threads").value(u.threads);
    w.key("peak_threads").value(u.peak_threads);
    w.key("voluntary_context_switches").value(u.voluntary_switches);
    w.key("involuntary_context_switches").value(u.involuntary_switches);
    w.key("samples").value(u.samples);
    w.end_object();
  }

  w.key("functions").begin_array();
  for (const function_stats &f : r.functions) {
    w.begin_object();
    w.key("body");
    write_location(w, f.body);
    w.key("started").value(f.started);
    w.key("finished").value(f.finished);
    w.key("failed").value(f.failed);
    w.key("cancelled").value(f.cancelled);
    w.key("abandoned").value(f.abandoned);
    w.key("never_started").value(f.never_started);
    w.key("slow_steps").value(f.slow_steps);
    w.key("suspensions").value(f.suspensions);
    w.key("cross_thread_resumptions").value(f.cross_thread_resumptions);
    w.key("running_ns").value(f.running_ns);
    w.key("suspended_ns").value(f.suspended_ns);
    w.key("duration");
    write_histogram(w, f.duration);
    w.key("final_step");
    write_histogram(w, f.final_step);
    write_edges(w, "awaited_by", f.awaited_by);
    write_edges(w, "spawned_by", f.spawned_by);
    w.end_object();
  }
  w.end_array();

  w.key("sites").begin_array();
  for (const site_stats &site : r.sites) {
    w.begin_object();
    w.key("at");
    write_location(w, site.at);
    w.key("kind").value(site.kind);
    w.key("waits_for").value(site.waits_for);
    w.key("count").value(site.count);
    w.key("ready").value(site.ready);
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

  write_long_waits(w, "hangs", r.hangs);
  write_long_waits(w, "queued", r.queued);

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

  write_locks(w, r.locks);

  w.key("drops").begin_object();
  for (const auto &[what, n] : r.drops)
    w.key(what).value(n);
  w.end_object();
  w.end_object();
  out += '\n';
  return out;
}

} // namespace coroscope::report
