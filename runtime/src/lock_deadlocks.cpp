// Deadlocks named from the wait-for graph of live coroutines and threads:
// a coroutine waiting for an async lock, a coroutine awaiting its child, a
// thread blocked in a lock, each pointing at whom it waits for.
#include "lock_tracker.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace coroscope::detail {
namespace {

// A node of the wait-for graph: a coroutine by id, or a thread by index
// with the top bit set.
constexpr std::uint64_t kThreadNode = std::uint64_t{1} << 63;

struct waiter {
  report::deadlock_member member;
  std::vector<std::uint64_t> waits_on;
};

} // namespace

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

bool lock_waiter_for_testing() { return thread_blocked_in_lock(now_ticks(), 0); }

} // namespace coroscope::detail
