// The locks section of the report, and the facts file of the orders a run
// observed (COROSCOPE_LOCK_FACTS).
#include "lock_tracker.hpp"

#include "json.hpp"

#include <algorithm>

namespace coroscope::detail {
namespace {

report::lock_order order_of(const lock_registry &reg, std::uint16_t first,
                            std::uint16_t second) {
  report::lock_order o;
  o.first = reg.classes[first].name;
  o.second = reg.classes[second].name;
  auto found = reg.witnesses.find({first, second});
  if (found != reg.witnesses.end()) {
    o.first_at = location_of_lock(found->second.first_at);
    o.second_at = location_of_lock(found->second.second_at);
    o.holder = found->second.holder;
    o.thread = found->second.thread;
  }
  return o;
}

} // namespace

report::location location_of_lock(const lock_site *at) {
  report::location l;
  if (at == nullptr)
    return l;
  l.function = at->function != nullptr ? at->function : "";
  l.file = at->file != nullptr ? at->file : "";
  l.line = at->line;
  l.column = at->column;
  return l;
}

void collect_locks(report::report &into, std::int64_t now) {
  runtime &r = rt();
  lock_registry &reg = lock_reg();
  report::locks_section &out = into.locks;
  std::map<std::uint16_t, report::lock_class_stats> classes;
  {
    std::lock_guard guard(r.registry_lock);
    for (thread_record *t : r.threads) {
      thread_locks *tl = t->locks.load(std::memory_order_acquire);
      auto *table = tl != nullptr ? tl->stats.load(std::memory_order_acquire) : nullptr;
      if (table == nullptr)
        continue;
      for (std::uint16_t c = 0; c < kMaxLockClasses; ++c) {
        lock_class_stats *s = table[c].load(std::memory_order_acquire);
        if (s == nullptr)
          continue;
        report::lock_class_stats &into_class = classes[c];
        into_class.acquisitions += s->acquisitions.get();
        into_class.contended += s->contended.get();
        into_class.wait.merge(read_histogram(s->wait));
        into_class.hold.merge(read_histogram(s->hold));
        std::uint64_t held = s->longest_hold_ns.get();
        if (held > into_class.longest_hold_ns) {
          into_class.longest_hold_ns = held;
          into_class.longest_from = location_of_lock(s->longest_from.load());
          into_class.longest_to = location_of_lock(s->longest_to.load());
          into_class.longest_holder = holder_name(s->longest_holder_body.load(),
                                                  s->longest_holder.load(),
                                                  s->longest_thread.load());
        }
      }
    }
  }
  note_deadlocks(now, g_hang_ticks.load(std::memory_order_relaxed));
  registry_guard guard(reg);
  for (auto &[c, stats] : classes) {
    if (stats.acquisitions == 0 && stats.hold.count == 0)
      continue;
    stats.name = reg.classes[c].name;
    stats.kind = lock_kind_name(reg.classes[c].kind);
    out.classes.push_back(std::move(stats));
  }
  std::sort(out.classes.begin(), out.classes.end(),
            [](const auto &a, const auto &b) { return a.name < b.name; });
  for (const auto &[key, record] : reg.held_across) {
    const auto &[lock_class, acquired, suspended] = key;
    report::lock_held_across h;
    h.lock = reg.classes[lock_class].name;
    h.acquired_at = location_of_lock(acquired);
    h.suspended_at = location_of(suspended, record.coroutine_body);
    h.coroutine = holder_name(record.coroutine_body, record.coroutine, 0);
    h.count = record.count;
    h.other_thread = record.other_thread;
    h.suspended_ns = record.suspended_ns;
    h.max_suspended_ns = record.max_suspended_ns;
    out.held_across_suspension.push_back(std::move(h));
  }
  for (const auto &[key, record] : reg.foreign_releases) {
    const auto &[lock_class, acquired, released] = key;
    report::lock_foreign_release f;
    f.lock = reg.classes[lock_class].name;
    f.acquired_at = location_of_lock(acquired);
    f.released_at = location_of_lock(released);
    f.acquired_thread = record.acquired_thread;
    f.released_thread = record.released_thread;
    f.holder = record.holder;
    f.count = record.count;
    out.released_on_other_thread.push_back(std::move(f));
  }
  for (const auto &[pair, witness] : reg.witnesses)
    out.orders.push_back(order_of(reg, pair.first, pair.second));
  for (const std::vector<std::uint16_t> &cycle : reg.cycles) {
    report::lock_cycle &c = out.cycles.emplace_back();
    for (std::size_t i = 0; i < cycle.size(); ++i)
      c.orders.push_back(order_of(reg, cycle[i], cycle[(i + 1) % cycle.size()]));
  }
  out.deadlocks = reg.deadlocks;
  out.unmatched_releases = reg.unmatched_releases.load();
  into.drops["lock_classes"] = reg.drop_classes.load();
  into.drops["lock_depth"] = reg.drop_depth.load();
  into.drops["lock_statistics"] = reg.drop_stats.load();
  into.drops["lock_records"] = reg.drop_records.load();
  // Chains the cache could not keep were validated again each time: a cost.
  into.drops["lock_chains_uncached"] = reg.drop_chains.load();
}

std::string lock_facts_now() {
  lock_registry &reg = lock_reg();
  std::string out;
  json::writer w(out);
  auto site = [&](const char *key, const lock_site *at) {
    w.key(key).begin_object();
    w.key("file").value(at != nullptr && at->file != nullptr ? at->file : "");
    w.key("line").value(at != nullptr ? at->line : 0u);
    w.key("column").value(at != nullptr ? at->column : 0u);
    w.end_object();
  };
  registry_guard guard(reg);
  std::vector<std::string> names;
  for (const lock_class_info &c : reg.classes)
    names.push_back(c.name);
  std::sort(names.begin(), names.end());
  w.begin_object();
  w.key("format").value("coroscope-lockfacts");
  w.key("version").value(1);
  w.key("source").value("run-time");
  w.key("translation_unit").value("run-time: " + process_label());
  w.key("locks").begin_array();
  for (const std::string &name : names)
    w.value(name);
  w.end_array();
  // By class names, as a translation unit's facts are sorted.
  std::vector<std::pair<std::pair<std::string, std::string>, const order_witness *>> orders;
  for (const auto &[pair, witness] : reg.witnesses)
    orders.push_back({{reg.classes[pair.first].name, reg.classes[pair.second].name}, &witness});
  std::sort(orders.begin(), orders.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  w.key("edges").begin_array();
  for (const auto &[names_of, witness] : orders) {
    w.begin_object();
    w.key("from").value(names_of.first);
    w.key("to").value(names_of.second);
    const lock_site *at = witness->second_at;
    w.key("function").value(at != nullptr && at->function != nullptr ? at->function : "");
    site("at", at);
    site("held_at", witness->first_at);
    w.key("via").begin_array();
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

} // namespace coroscope::detail
