// Run-time lock tracking, inside the runtime (docs/runtime/locks.md):
//   locks.cpp        the hooks: held sets per coroutine, statistics per
//                    thread and class, holders, suspensions holding locks
//   lock_order.cpp   lock classes, the class-to-class order graph with its
//                    cache of validated chains, and cycles
//   lock_report.cpp  the locks section of the report, and the facts file
//   lock_deadlocks.cpp  deadlocks named from the wait-for graph
// Every table is fixed; what does not fit is counted in the report's drops.
#pragma once

#include "tracker.hpp"

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace coroscope::detail {

inline constexpr std::size_t kMaxLockClasses = 1024;
inline constexpr std::size_t kChainSlots = 1 << 14;
inline constexpr int kLockSiteCache = 64;
inline constexpr int kSpareHeldSets = 8;
inline constexpr std::uint16_t kNoLockClass = 0xffff;

// One thread's statistics of one lock class; only that thread writes them.
struct lock_class_stats {
  counter acquisitions, contended;
  histogram wait, hold;
  counter longest_hold_ns;
  std::atomic<const lock_site *> longest_from{nullptr}, longest_to{nullptr};
  std::atomic<std::uint64_t> longest_holder{0}; // coroutine id, or 0
  std::atomic<const site *> longest_holder_body{nullptr};
  std::atomic<std::uint32_t> longest_thread{0};
};

// What a thread keeps for lock tracking, in its thread_record.
struct thread_locks {
  held_locks outside; // taken outside any coroutine
  held_locks *spare = nullptr;
  int spare_count = 0;
  struct cache_entry {
    const lock_site *key = nullptr;
    std::uint16_t lock_class = kNoLockClass;
    lock_class_stats *stats = nullptr; // this thread's, of lock_class
  };
  cache_entry cache[kLockSiteCache];
  // Per class, allocated at the thread's first lock.
  std::atomic<std::atomic<lock_class_stats *> *> stats{nullptr};
  // A blocking acquisition in progress, for the wait-for graph.
  std::atomic<const void *> waiting_mutex{nullptr};
  std::atomic<const lock_site *> waiting_at{nullptr};
  std::atomic<std::int64_t> waiting_since{0};
  std::atomic<std::uint64_t> waiting_coroutine{0}; // running on the thread
  std::uint32_t sample_countdown = 1; // the next timed hold
};

struct lock_class_info {
  std::string name;
  lock_kind kind = lock_kind::mutex;
};

// The first time one class was held while another was acquired.
struct order_witness {
  const lock_site *first_at = nullptr, *second_at = nullptr;
  std::string holder;
  std::uint32_t thread = 0;
};

struct held_across_record {
  const site *coroutine_body = nullptr;
  std::uint64_t coroutine = 0;
  std::uint64_t count = 0, other_thread = 0, suspended_ns = 0, max_suspended_ns = 0;
};

struct foreign_release_record {
  std::uint32_t acquired_thread = 0, released_thread = 0;
  std::string holder;
  std::uint64_t count = 0;
};

struct lock_registry {
  std::mutex lock; // everything below but the atomics
  std::vector<lock_class_info> classes;
  std::map<std::string, std::uint16_t, std::less<>> class_by_name;
  std::atomic<std::uint32_t> class_count{0};
  // order[a] has bit b when a was held while b was acquired.
  std::uint64_t order[kMaxLockClasses][kMaxLockClasses / 64] = {};
  std::map<std::pair<std::uint16_t, std::uint16_t>, order_witness> witnesses;
  std::vector<std::vector<std::uint16_t>> cycles; // each: classes in order
  std::map<std::tuple<std::uint16_t, const lock_site *, const site *>, held_across_record>
      held_across;
  std::map<std::tuple<std::uint16_t, const lock_site *, const lock_site *>,
           foreign_release_record>
      foreign_releases;
  std::vector<report::deadlock> deadlocks;
  std::vector<std::vector<std::uint64_t>> deadlock_keys; // each cycle once
  std::vector<std::string> pending_lines; // registry_guard logs them
  std::atomic<std::uint64_t> unmatched_releases{0};
  std::atomic<std::uint64_t> drop_classes{0}, drop_depth{0}, drop_chains{0}, drop_stats{0},
      drop_records{0};
};

lock_registry &lock_reg();

// Holds the registry's lock; lines logged meanwhile are written after it is
// released, so the log's lock is never taken inside it.
class registry_guard {
public:
  explicit registry_guard(lock_registry &reg) : reg_(reg) { reg_.lock.lock(); }
  ~registry_guard();
  registry_guard(const registry_guard &) = delete;
  registry_guard &operator=(const registry_guard &) = delete;

private:
  lock_registry &reg_;
};

// On the acquisition path, so plain globals rather than registry members.
// Chains of (held classes -> acquired class) already validated:
extern std::atomic<std::uint64_t> g_lock_chains[kChainSlots];
static_assert(kOwnerSlots == std::size_t{1} << kOwnerSlotBits);

// lock_order.cpp
// The class of `at`'s lock (interned by name), or kNoLockClass when the
// table is full.
std::uint16_t intern_lock_class(const lock_site *at);
// Validates acquiring `acquired` while `held` are held (chain: their hash),
// once per chain; records new orders and any cycle they close.
void validate_chain(std::uint64_t chain, const held_lock *const *held, int held_count,
                    std::uint16_t acquired, const lock_site *at, const frame *holder,
                    std::uint32_t thread);
// Forgets classes, orders, cycles and records (tests, a forked child).
void forget_lock_records();

// locks.cpp
// COROSCOPE_LOCK_SAMPLE: the hold of one uncontended acquisition in this
// many is timed (every contended one is).
extern std::atomic<std::uint32_t> g_lock_sample;
void configure_locks(const config &cfg);
thread_locks &locks_of(thread_state &thread);
// "fetch (coroutine 12)" or "thread 3".
std::string holder_name(const site *body, std::uint64_t coroutine, std::uint32_t thread);

// lock_report.cpp
report::location location_of_lock(const lock_site *at);
void collect_locks(report::report &into, std::int64_t now);
// The orders this run observed, as a coroscope-lockfacts file that
// `coroscope lockgraph` merges with the checks' (COROSCOPE_LOCK_FACTS).
std::string lock_facts_now();
// lock_deadlocks.cpp
// Builds the wait-for graph of the coroutines and threads that have waited
// at least `min_wait` ticks, and logs and keeps each new cycle as a deadlock.
void note_deadlocks(std::int64_t now, std::int64_t min_wait);
// True when a thread has been blocked in a tracked lock for `min_wait`.
bool thread_blocked_in_lock(std::int64_t now, std::int64_t min_wait);

} // namespace coroscope::detail
