// Lock classes and the order between them. Like lockdep, each chain of
// (held classes -> acquired class) is validated once and then cached by its
// hash, so the steady state pays one probe of a table per acquisition.
#include "lock_tracker.hpp"

#include <algorithm>
#include <cstring>

namespace coroscope::detail {
namespace {

bool has_order(const lock_registry &reg, std::uint16_t from, std::uint16_t to) {
  return (reg.order[from][to / 64] >> (to % 64)) & 1;
}

// A path of orders from `from` to `to`, as the classes along it, or empty.
std::vector<std::uint16_t> order_path(const lock_registry &reg, std::uint16_t from,
                                      std::uint16_t to) {
  std::uint32_t count = reg.class_count.load(std::memory_order_relaxed);
  std::vector<std::uint16_t> previous(count, kNoLockClass);
  std::vector<std::uint16_t> queue{from};
  previous[from] = from;
  for (std::size_t next = 0; next < queue.size(); ++next) {
    std::uint16_t at = queue[next];
    if (at == to) {
      std::vector<std::uint16_t> path{to};
      while (path.back() != from)
        path.push_back(previous[path.back()]);
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (std::uint32_t word = 0; word < (count + 63) / 64; ++word)
      for (std::uint64_t bits = reg.order[at][word]; bits != 0; bits &= bits - 1) {
        auto after = static_cast<std::uint16_t>(word * 64 + __builtin_ctzll(bits));
        if (previous[after] == kNoLockClass) {
          previous[after] = at;
          queue.push_back(after);
        }
      }
  }
  return {};
}

std::string where(const lock_site *at) {
  const char *file = std::strrchr(at->file, '/');
  return std::string(file != nullptr ? file + 1 : at->file) + ":" + std::to_string(at->line);
}

void insert_chain(lock_registry &reg, std::uint64_t chain) {
  auto slot = chain & (kChainSlots - 1);
  for (std::size_t probe = 0; probe < 8; ++probe) {
    std::atomic<std::uint64_t> &cell = g_lock_chains[(slot + probe) & (kChainSlots - 1)];
    std::uint64_t seen = cell.load(std::memory_order_relaxed);
    if (seen == chain)
      return;
    if (seen == 0) {
      cell.store(chain, std::memory_order_relaxed);
      return;
    }
  }
  // Not cached: the chain is validated again next time, at a cost, not a loss.
  reg.drop_chains.fetch_add(1, std::memory_order_relaxed);
}

void report_cycle(lock_registry &reg, std::vector<std::uint16_t> cycle) {
  // One report per set of orders: rotate the smallest class first.
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  if (std::find(reg.cycles.begin(), reg.cycles.end(), cycle) != reg.cycles.end())
    return;
  if (reg.cycles.size() >= rt().cfg.max_records) {
    reg.drop_records.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  reg.cycles.push_back(cycle);
  std::string text = "coroscope: lock-order cycle observed:";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    std::uint16_t first = cycle[i], second = cycle[(i + 1) % cycle.size()];
    const order_witness &w = reg.witnesses[{first, second}];
    text += (i == 0 ? " '" : "; '") + reg.classes[first].name + "' then '" +
            reg.classes[second].name + "' at " + where(w.first_at) + " and " +
            where(w.second_at) + " by " + w.holder;
  }
  text += " [coro-lock-order-inversion]";
  reg.pending_lines.push_back(text);
}

} // namespace

registry_guard::~registry_guard() {
  std::vector<std::string> lines;
  lines.swap(reg_.pending_lines);
  reg_.lock.unlock();
  for (const std::string &line : lines)
    log_line(line);
}

lock_registry &lock_reg() {
  static auto *registry = new lock_registry; // never destroyed, like rt()
  return *registry;
}

std::uint16_t intern_lock_class(const lock_site *at) {
  lock_registry &reg = lock_reg();
  const char *name = at->lock_class != nullptr ? at->lock_class : "<unnamed>";
  registry_guard guard(reg);
  auto found = reg.class_by_name.find(std::string_view(name));
  if (found != reg.class_by_name.end())
    return found->second;
  if (reg.classes.size() >= kMaxLockClasses) {
    reg.drop_classes.fetch_add(1, std::memory_order_relaxed);
    return kNoLockClass;
  }
  auto index = static_cast<std::uint16_t>(reg.classes.size());
  reg.classes.push_back({name, at->kind});
  reg.class_by_name.emplace(name, index);
  reg.class_count.store(static_cast<std::uint32_t>(reg.classes.size()), std::memory_order_release);
  return index;
}

void validate_chain(std::uint64_t chain, const held_lock *const *held, int held_count,
                    std::uint16_t acquired, const lock_site *at, const frame *holder,
                    std::uint32_t thread) {
  lock_registry &reg = lock_reg();
  registry_guard guard(reg);
  for (int i = 0; i < held_count; ++i) {
    std::uint16_t first = held[i]->lock_class;
    // Two locks of one class (two accounts' mutexes) have no order between
    // classes; the static check does not name them apart either.
    if (first == acquired || has_order(reg, first, acquired))
      continue;
    reg.order[first][acquired / 64] |= std::uint64_t{1} << (acquired % 64);
    order_witness &w = reg.witnesses[{first, acquired}];
    w.first_at = held[i]->at;
    w.second_at = at;
    w.holder = holder_name(holder != nullptr ? holder->body_ : nullptr,
                           holder != nullptr ? holder->id() : 0, thread);
    w.thread = thread;
    std::vector<std::uint16_t> back = order_path(reg, acquired, first);
    if (!back.empty())
      report_cycle(reg, back); // acquired ... first, closed by first -> acquired
  }
  insert_chain(reg, chain);
}

void forget_lock_records() {
  lock_registry &reg = lock_reg();
  registry_guard guard(reg);
  for (auto &row : reg.order)
    std::fill(std::begin(row), std::end(row), 0);
  reg.witnesses.clear();
  reg.cycles.clear();
  for (auto &cell : g_lock_chains)
    cell.store(0, std::memory_order_relaxed);
  reg.held_across.clear();
  reg.foreign_releases.clear();
  for (auto *counter : {&reg.unmatched_releases, &reg.drop_classes, &reg.drop_depth,
                        &reg.drop_chains, &reg.drop_stats, &reg.drop_records})
    counter->store(0, std::memory_order_relaxed);
  // Classes stay: threads cache their numbers.
}

} // namespace coroscope::detail
