// The locks section of the report, and deadlocks named from the wait-for
// graph of live coroutines and threads.
#include "lock_tracker.hpp"

#include "json.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace coroscope::detail {
namespace {

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

// A node of the wait-for graph: a coroutine by id, or a thread by index
// with the top bit set.
constexpr std::uint64_t kThreadNode = std::uint64_t{1} << 63;

struct waiter {
  report::deadlock_member member;
  std::vector<std::uint64_t> waits_on;
};

} // namespace

void collect_locks(report::report &into, std::int64_t now) {
  runtime &r = rt();
  lock_registry &reg = lock_reg();
  report::locks_section &out = into.locks;
  std::map<std::uint16_t, report::lock_class_stats> classes;
  std::map<std::uint16_t, std::uint64_t> longest; // what `classes` took it from
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
        if (held > into_class.longest_hold_ns || (held != 0 && !longest.contains(c))) {
          longest[c] = held;
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

bool thread_blocked_in_lock(std::int64_t now, std::int64_t min_wait) {
  runtime &r = rt();
  std::lock_guard guard(r.registry_lock);
  for (thread_record *t : r.threads) {
    thread_locks *tl = t->locks.load(std::memory_order_acquire);
    if (tl != nullptr && tl->waiting_mutex.load(std::memory_order_acquire) != nullptr &&
        now - tl->waiting_since.load(std::memory_order_relaxed) >= min_wait)
      return true;
  }
  return false;
}

void note_deadlocks(std::int64_t now, std::int64_t min_wait) {
  runtime &r = rt();
  lock_registry &reg = lock_reg();
  std::unordered_map<std::uint64_t, waiter> graph;
  struct holder_info {
    std::uint64_t node;
    const lock_site *at;
  };
  auto holder_of = [&](const void *mutex) -> std::optional<holder_info> {
    lock_owner &owner = owner_slot(mutex);
    if (owner.mutex.load(std::memory_order_acquire) != mutex)
      return std::nullopt;
    std::uint64_t coroutine = owner.coroutine.load(std::memory_order_relaxed);
    std::uint64_t node =
        coroutine != 0 ? coroutine : kThreadNode | owner.thread.load(std::memory_order_relaxed);
    return holder_info{node, owner.at.load(std::memory_order_relaxed)};
  };
  auto lock_name = [&](const lock_site *at) {
    return at != nullptr && at->lock_class != nullptr ? std::string(at->lock_class)
                                                      : std::string("<unnamed>");
  };
  std::unordered_map<std::uint64_t, std::string> names; // node -> who
  {
    std::lock_guard guard(r.registry_lock);
    for (thread_record *t : r.threads) {
      thread_locks *tl = t->locks.load(std::memory_order_acquire);
      const void *mutex = tl != nullptr ? tl->waiting_mutex.load(std::memory_order_acquire)
                                        : nullptr;
      if (mutex == nullptr ||
          now - tl->waiting_since.load(std::memory_order_relaxed) < min_wait)
        continue;
      auto held = holder_of(mutex);
      if (!held)
        continue;
      std::uint32_t index = t->state.index;
      std::uint64_t node = kThreadNode | index;
      waiter &w = graph[node];
      const lock_site *at = tl->waiting_at.load(std::memory_order_relaxed);
      w.member.who = "thread " + std::to_string(index);
      w.member.at = location_of_lock(at);
      w.member.lock = lock_name(at);
      w.waits_on.push_back(held->node);
      // The coroutine running on the thread waits with it.
      if (std::uint64_t running = tl->waiting_coroutine.load(std::memory_order_relaxed))
        graph[running].waits_on.push_back(node);
    }
  }
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_) {
      if (inherited_from_parent(*f))
        continue;
      names[f->id_] = holder_name(f->body_, f->id_, 0);
      auto st = static_cast<state>(f->state_.load(std::memory_order_relaxed));
      if (st != state::suspended ||
          now - f->since_.load(std::memory_order_relaxed) < min_wait) {
        // A running child still keeps its awaiting parent waiting.
        if (f->awaited_ && f->parent_id_ != 0)
          graph[f->parent_id_].waits_on.push_back(f->id_);
        continue;
      }
      waiter &w = graph[f->id_];
      w.member.at = location_of(f->site_.load(std::memory_order_relaxed), f->body_);
      if (const void *mutex = f->waiting_lock_.load(std::memory_order_relaxed)) {
        if (auto held = holder_of(mutex)) {
          w.waits_on.push_back(held->node);
          w.member.lock = lock_name(held->at);
        }
      }
      if (f->waits_on_suspension_.load(std::memory_order_relaxed) ==
              f->suspensions_.load(std::memory_order_relaxed) &&
          f->waits_on_.load(std::memory_order_relaxed) != 0)
        w.waits_on.push_back(f->waits_on_.load(std::memory_order_relaxed));
      if (f->awaited_ && f->parent_id_ != 0)
        graph[f->parent_id_].waits_on.push_back(f->id_);
    }
  }
  auto who = [&](std::uint64_t node) {
    if (node & kThreadNode)
      return "thread " + std::to_string(node & ~kThreadNode);
    auto found = names.find(node);
    return found != names.end() ? found->second : "coroutine " + std::to_string(node);
  };
  // Each node waits on few others: follow every path with colours.
  std::unordered_map<std::uint64_t, int> colour; // 1: on the path, 2: done
  std::vector<std::uint64_t> path;
  std::vector<std::vector<std::uint64_t>> cycles;
  auto visit = [&](auto &self, std::uint64_t node) -> void {
    colour[node] = 1;
    path.push_back(node);
    auto found = graph.find(node);
    if (found != graph.end())
      for (std::uint64_t next : found->second.waits_on) {
        int c = colour[next];
        if (c == 1) {
          auto from = std::find(path.begin(), path.end(), next);
          cycles.emplace_back(from, path.end());
        } else if (c == 0) {
          self(self, next);
        }
      }
    path.pop_back();
    colour[node] = 2;
  };
  for (auto &[node, w] : graph)
    if (colour[node] == 0)
      visit(visit, node);

  registry_guard guard(reg);
  for (std::vector<std::uint64_t> &cycle : cycles) {
    // A coroutine awaiting a child that awaits it back is not a lock
    // deadlock; a cycle must hold at least one lock wait.
    bool has_lock = std::any_of(cycle.begin(), cycle.end(), [&](std::uint64_t node) {
      auto found = graph.find(node);
      return found != graph.end() && !found->second.member.lock.empty();
    });
    if (!has_lock)
      continue;
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
    if (std::find(reg.deadlock_keys.begin(), reg.deadlock_keys.end(), cycle) !=
        reg.deadlock_keys.end())
      continue;
    if (reg.deadlocks.size() >= r.cfg.max_records) {
      reg.drop_records.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    reg.deadlock_keys.push_back(cycle);
    report::deadlock &d = reg.deadlocks.emplace_back();
    d.at_ms = ticks_to_ms_since_start(now);
    std::string text = "coroscope: deadlock:";
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      report::deadlock_member m = graph[cycle[i]].member;
      m.who = who(cycle[i]);
      std::uint64_t next = cycle[(i + 1) % cycle.size()];
      m.waits_for = m.lock.empty() ? who(next)
                                   : "lock '" + m.lock + "' held by " + who(next);
      text += (i == 0 ? " " : "; ") + m.who + " at " + m.at.where() + " waits for " +
              m.waits_for;
      d.members.push_back(std::move(m));
    }
    reg.pending_lines.push_back(text);
  }
}

} // namespace coroscope::detail

namespace coroscope::detail {
bool lock_waiter_for_testing() { return thread_blocked_in_lock(now_ticks(), 0); }
} // namespace coroscope::detail
