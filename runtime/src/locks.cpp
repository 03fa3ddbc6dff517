// The lock hooks (coroscope/locks.hpp): held sets that move with their
// coroutine, per-thread statistics per lock class, who holds each lock, and
// what a coroutine does while holding one.
#include "lock_tracker.hpp"

#include <algorithm>
#include <new>

namespace coroscope::detail {

constinit lock_owner g_lock_owners[kOwnerSlots];
constinit std::atomic<std::uint64_t> g_lock_chains[kChainSlots];
constinit std::atomic<std::uint32_t> g_lock_sample{16};

namespace {

thread_locks *make_thread_locks(thread_state &thread) {
  auto *made = new (std::nothrow) thread_locks;
  if (made == nullptr) {
    static thread_locks overflow; // out of memory: shared, statistics lost
    return &overflow;
  }
  thread.locks = made;
  record_of(thread)->locks.store(made, std::memory_order_release);
  return made;
}

held_locks *take_held_set(thread_locks &tl) {
  if (held_locks *spare = tl.spare) {
    tl.spare = spare->next_spare;
    --tl.spare_count;
    spare->depth = 0;
    return spare;
  }
  return new (std::nothrow) held_locks;
}

void give_back_held_set(thread_locks &tl, held_locks *set) {
  if (tl.spare_count >= kSpareHeldSets) {
    delete set;
    return;
  }
  set->next_spare = tl.spare;
  tl.spare = set;
  ++tl.spare_count;
}

lock_class_stats *stats_of(thread_locks &tl, std::uint16_t lock_class) {
  auto *table = tl.stats.load(std::memory_order_relaxed);
  if (table == nullptr) {
    table = new (std::nothrow) std::atomic<lock_class_stats *>[kMaxLockClasses]();
    if (table == nullptr)
      return nullptr;
    tl.stats.store(table, std::memory_order_release);
  }
  lock_class_stats *stats = table[lock_class].load(std::memory_order_relaxed);
  if (stats == nullptr) {
    stats = new (std::nothrow) lock_class_stats;
    if (stats == nullptr) {
      lock_reg().drop_stats.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    table[lock_class].store(stats, std::memory_order_release);
  }
  return stats;
}

// The class of `at`'s lock and this thread's statistics of it.
[[gnu::noinline]] thread_locks::cache_entry &fill_cache(thread_locks::cache_entry &entry,
                                                         thread_locks &tl, const lock_site *at) {
  entry.lock_class = intern_lock_class(at);
  entry.stats = entry.lock_class != kNoLockClass ? stats_of(tl, entry.lock_class) : nullptr;
  entry.key = at;
  return entry;
}

inline std::size_t cache_slot(const lock_site *at) {
  return (reinterpret_cast<std::uintptr_t>(at) >> 4) & (kLockSiteCache - 1);
}

inline thread_locks::cache_entry &class_of(thread_locks &tl, const lock_site *at) {
  thread_locks::cache_entry &entry = tl.cache[cache_slot(at)];
  if (entry.key == at) [[likely]]
    return entry;
  return fill_cache(entry, tl, at);
}

inline std::uint64_t mix(std::uint64_t chain, std::uint64_t value) {
  std::uint64_t h = (chain ^ (value + 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

inline std::uint64_t top_chain(const held_locks *set) {
  return set != nullptr && set->depth != 0 ? set->entries[set->depth - 1].chain : 0;
}

inline void record_owner(const void *mutex, const lock_site *at, const frame *holder,
                         std::uint32_t thread) {
  lock_owner &owner = owner_slot(mutex);
  owner.coroutine.store(holder != nullptr ? holder->id() : 0, std::memory_order_relaxed);
  owner.thread.store(thread, std::memory_order_relaxed);
  owner.at.store(at, std::memory_order_relaxed);
  owner.mutex.store(mutex, std::memory_order_release);
}

// Done before the lock is released (lock_hold), so no other holder has
// taken it yet: a plain store, not a read-modify-write.
inline void clear_owner(const void *mutex) {
  lock_owner &owner = owner_slot(mutex);
  if (owner.mutex.load(std::memory_order_relaxed) == mutex)
    owner.mutex.store(nullptr, std::memory_order_relaxed);
}

bool chain_known(std::uint64_t chain) {
  auto slot = chain & (kChainSlots - 1);
  for (std::size_t probe = 0; probe < 8; ++probe) {
    std::uint64_t seen = g_lock_chains[(slot + probe) & (kChainSlots - 1)].load(
        std::memory_order_relaxed);
    if (seen == chain)
      return true;
    if (seen == 0)
      return false;
  }
  return false;
}

[[gnu::noinline]] void validate(const held_locks *outer, const held_locks &set,
                                std::uint64_t chain, std::uint16_t lock_class,
                                const lock_site *at, const frame *holder, std::uint32_t thread) {
  const held_lock *held[2 * kMaxHeldLocks];
  int count = 0;
  if (outer != nullptr)
    for (std::uint32_t i = 0; i < outer->depth; ++i)
      held[count++] = &outer->entries[i];
  for (std::uint32_t i = 0; i < set.depth; ++i)
    held[count++] = &set.entries[i];
  validate_chain(chain, held, count, lock_class, at, holder, thread);
}

// The record of `key` in one of the registry's bounded maps, made on first
// sight (`fresh`); null when the map is full, which drops count.
template <typename Map>
typename Map::mapped_type *bounded_record(lock_registry &reg, Map &map,
                                          const typename Map::key_type &key, bool &fresh) {
  auto found = map.find(key);
  fresh = found == map.end();
  if (!fresh)
    return &found->second;
  if (map.size() >= rt().cfg.max_records) {
    reg.drop_records.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return &map[key];
}

[[gnu::noinline]] void note_foreign_release(const held_lock &entry, const lock_site *at,
                                            const frame *holder, std::uint32_t thread) {
  lock_registry &reg = lock_reg();
  registry_guard guard(reg);
  bool fresh = false;
  foreign_release_record *record = bounded_record(
      reg, reg.foreign_releases, std::make_tuple(entry.lock_class, entry.at, at), fresh);
  if (record == nullptr)
    return;
  if (fresh) {
    record->acquired_thread = entry.thread;
    record->released_thread = thread;
    record->holder = holder_name(holder != nullptr ? holder->body_ : nullptr,
                                 holder != nullptr ? holder->id() : 0, thread);
    reg.pending_lines.push_back(
        "coroscope: lock '" + reg.classes[entry.lock_class].name + "' acquired on thread " +
        std::to_string(entry.thread) + " at " + std::string(entry.at->file) + ":" +
        std::to_string(entry.at->line) + " was released on thread " + std::to_string(thread) +
        " at " + std::string(at->file) + ":" + std::to_string(at->line) + " by " +
        record->holder + ": undefined behaviour for a " + lock_kind_name(entry.at->kind));
  }
  ++record->count;
}

void note_hold(lock_class_stats &stats, const held_lock &entry, const lock_site *at,
               const frame *holder, std::uint32_t thread) {
  std::uint64_t held_ns = ticks_to_ns(now_ticks() - entry.since);
  stats.hold.record(held_ns);
  if (held_ns <= stats.longest_hold_ns.get())
    return;
  stats.longest_hold_ns.value.store(held_ns, std::memory_order_relaxed);
  stats.longest_from.store(entry.at, std::memory_order_relaxed);
  stats.longest_to.store(at, std::memory_order_relaxed);
  stats.longest_holder.store(holder != nullptr ? holder->id() : 0, std::memory_order_relaxed);
  stats.longest_holder_body.store(holder != nullptr ? holder->body_ : nullptr,
                                  std::memory_order_relaxed);
  stats.longest_thread.store(thread, std::memory_order_relaxed);
}

// Later entries' chains still name the released lock; they were validated
// as they were acquired, which is what lockdep does too.
inline void remove_entry(thread_locks &tl, held_locks &set, std::uint32_t index, frame *holder) {
  if (index + 1 != set.depth) [[unlikely]]
    std::copy(set.entries + index + 1, set.entries + set.depth, set.entries + index);
  if (--set.depth == 0 && &set != &tl.outside) {
    give_back_held_set(tl, &set);
    holder->held_ = nullptr;
  }
}

} // namespace

void configure_locks(const config &cfg) {
  g_lock_sample.store(
      static_cast<std::uint32_t>(std::clamp<std::size_t>(cfg.lock_sample, 1, 1u << 30)),
      std::memory_order_relaxed);
}

thread_locks &locks_of(thread_state &thread) {
  auto *tl = static_cast<thread_locks *>(thread.locks);
  if (tl == nullptr) [[unlikely]]
    tl = make_thread_locks(thread);
  return *tl;
}

std::string holder_name(const site *body, std::uint64_t coroutine, std::uint32_t thread) {
  if (coroutine == 0)
    return "thread " + std::to_string(thread);
  std::string name = body != nullptr && body->function != nullptr ? body->function : "?";
  return name + " (coroutine " + std::to_string(coroutine) + ")";
}

lock_wait_token lock_waiting(const void *mutex, const lock_site *at) noexcept {
  // An uncontended acquisition is not timed: a clock read costs more than
  // the lock (docs/runtime/locks.md). The inline hook checked for a holder.
  thread_state &thread = *this_thread();
  lock_wait_token token{now_ticks(), true, true};
  if (at->kind == lock_kind::async) {
    // The coroutine suspends until the lock is its; its thread moves on.
    if (thread.current != nullptr)
      thread.current->waiting_lock_.store(mutex, std::memory_order_relaxed);
    return token;
  }
  thread_locks &tl = locks_of(thread);
  tl.waiting_at.store(at, std::memory_order_relaxed);
  tl.waiting_since.store(token.since, std::memory_order_relaxed);
  tl.waiting_coroutine.store(thread.current != nullptr ? thread.current->id() : 0,
                             std::memory_order_relaxed);
  tl.waiting_mutex.store(mutex, std::memory_order_release);
  return token;
}

namespace {

[[gnu::noinline]] void acquired_slow(const void *mutex, const lock_site *at,
                                     lock_wait_token wait) noexcept {
  thread_state &thread = *this_thread();
  thread_locks &tl = locks_of(thread);
  frame *holder = thread.current;
  // Every contended hold is timed, and one in g_lock_sample of the others.
  bool timed = wait.contended;
  if (--tl.sample_countdown == 0) [[unlikely]] {
    tl.sample_countdown = g_lock_sample.load(std::memory_order_relaxed);
    timed = true;
  }
  std::int64_t now = timed ? now_ticks() : 0;
  if (wait.contended) [[unlikely]] {
    if (at->kind != lock_kind::async)
      tl.waiting_mutex.store(nullptr, std::memory_order_relaxed);
    else if (holder != nullptr)
      holder->waiting_lock_.store(nullptr, std::memory_order_relaxed);
  }

  thread_locks::cache_entry &known = class_of(tl, at);
  std::uint16_t lock_class = known.lock_class;
  if (lock_class == kNoLockClass) [[unlikely]]
    return;
  if (lock_class_stats *stats = known.stats) [[likely]] {
    stats->acquisitions.add(1);
    if (wait.contended) {
      stats->contended.add(1);
      stats->wait.record(ticks_to_ns(now - wait.since));
    }
  }

  record_owner(mutex, at, holder, thread.index);

  held_locks *set = &tl.outside;
  const held_locks *outer = nullptr; // a coroutine's order sees its thread's locks too
  if (holder != nullptr) {
    if (holder->held_ == nullptr) {
      holder->held_ = take_held_set(tl);
      if (holder->held_ == nullptr)
        return;
    }
    set = holder->held_;
    outer = &tl.outside;
  }
  std::uint32_t depth = set->depth;
  if (depth == kMaxHeldLocks) [[unlikely]] {
    lock_reg().drop_depth.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool nested = depth != 0 || (outer != nullptr && outer->depth != 0);
  std::uint64_t chain = mix(nested ? mix(top_chain(outer), top_chain(set)) : 0, lock_class);
  set->entries[depth] = {mutex,
                         at,
                         now,
                         chain,
                         thread.index,
                         holder != nullptr ? holder->suspensions_.load(std::memory_order_relaxed)
                                           : 0u,
                         lock_class,
                         timed};
  if (nested && !chain_known(chain)) [[unlikely]]
    validate(outer, *set, chain, lock_class, at, holder, thread.index);
  set->depth = depth + 1;
}

[[gnu::noinline]] void released_slow(const void *mutex, const lock_site *at,
                                     frame *holder) noexcept {
  thread_state &thread = *this_thread();
  thread_locks &tl = locks_of(thread);
  if (holder == nullptr || holder->held_ == nullptr)
    holder = thread.current;
  clear_owner(mutex);

  // Most releases are of the lock taken last.
  held_locks *set = nullptr;
  std::uint32_t index = 0;
  for (held_locks *candidate : {holder != nullptr ? holder->held_ : nullptr, &tl.outside}) {
    if (candidate == nullptr)
      continue;
    for (std::uint32_t i = candidate->depth; i-- > 0;)
      if (candidate->entries[i].mutex == mutex) {
        set = candidate;
        index = i;
        break;
      }
    if (set != nullptr)
      break;
  }
  if (set == nullptr) [[unlikely]] {
    lock_reg().unmatched_releases.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const held_lock &entry = set->entries[index];
  bool timed = entry.timed;
  bool foreign = entry.thread != thread.index && entry.at->kind != lock_kind::async;
  if (timed || foreign) [[unlikely]] {
    held_lock copy = entry;
    remove_entry(tl, *set, index, holder);
    if (timed) {
      thread_locks::cache_entry &known = class_of(tl, copy.at);
      if (known.stats != nullptr)
        note_hold(*known.stats, copy, at, holder, thread.index);
    }
    if (foreign)
      note_foreign_release(copy, at, holder, thread.index);
    return;
  }
  remove_entry(tl, *set, index, holder);
}

} // namespace

// The steady state of each hook is a leaf, so that it saves no registers:
// an uncontended, untimed acquisition at a site this thread has cached,
// whose chain (if nested) is validated; and the release of the lock taken
// last, on the thread that took it. Everything else is the slow paths'.
void lock_acquired(const void *mutex, const lock_site *at, lock_wait_token wait) noexcept {
  thread_state *thread = t_state;
  auto *tl = thread != nullptr ? static_cast<thread_locks *>(thread->locks) : nullptr;
  if (tl == nullptr || wait.contended) [[unlikely]]
    return acquired_slow(mutex, at, wait);
  thread_locks::cache_entry &known = tl->cache[cache_slot(at)];
  if (known.key != at || known.stats == nullptr || tl->sample_countdown == 1) [[unlikely]]
    return acquired_slow(mutex, at, wait);
  frame *holder = thread->current;
  held_locks *set = &tl->outside;
  const held_locks *outer = nullptr;
  bool spare = false; // the coroutine's first lock takes a spare set
  if (holder != nullptr) {
    set = holder->held_;
    if (set == nullptr) {
      set = tl->spare;
      if (set == nullptr) [[unlikely]]
        return acquired_slow(mutex, at, wait);
      spare = true;
    }
    outer = &tl->outside;
  }
  std::uint32_t depth = spare ? 0 : set->depth;
  bool nested = depth != 0 || (outer != nullptr && outer->depth != 0);
  std::uint64_t chain = known.lock_class;
  if (nested) {
    chain = mix(mix(top_chain(outer), depth != 0 ? set->entries[depth - 1].chain : 0),
                known.lock_class);
    if (depth == kMaxHeldLocks ||
        g_lock_chains[chain & (kChainSlots - 1)].load(std::memory_order_relaxed) != chain)
      [[unlikely]]
      return acquired_slow(mutex, at, wait);
  } else {
    chain = mix(0, chain);
  }

  if (spare) {
    tl->spare = set->next_spare;
    --tl->spare_count;
    holder->held_ = set;
  }
  --tl->sample_countdown;
  known.stats->acquisitions.add(1);
  record_owner(mutex, at, holder, thread->index);
  held_lock &entry = set->entries[depth];
  entry.mutex = mutex;
  entry.at = at;
  entry.chain = chain;
  entry.thread = thread->index;
  entry.suspensions = holder != nullptr ? holder->suspensions_.load(std::memory_order_relaxed) : 0;
  entry.lock_class = known.lock_class;
  entry.timed = false;
  set->depth = depth + 1;
}

void lock_released(const void *mutex, const lock_site *at, frame *holder) noexcept {
  thread_state *thread = t_state;
  auto *tl = thread != nullptr ? static_cast<thread_locks *>(thread->locks) : nullptr;
  if (tl == nullptr) [[unlikely]]
    return released_slow(mutex, at, holder);
  frame *owner = holder != nullptr && holder->held_ != nullptr ? holder : thread->current;
  held_locks *set = owner != nullptr ? owner->held_ : &tl->outside;
  std::uint32_t depth = set != nullptr ? set->depth : 0;
  if (depth == 0) [[unlikely]]
    return released_slow(mutex, at, holder);
  const held_lock &top = set->entries[depth - 1];
  bool gives_back = depth == 1 && owner != nullptr;
  if (top.mutex != mutex || top.timed || top.thread != thread->index ||
      (gives_back && tl->spare_count >= kSpareHeldSets)) [[unlikely]]
    return released_slow(mutex, at, holder);
  clear_owner(mutex);
  set->depth = depth - 1;
  if (gives_back) {
    owner->held_ = nullptr;
    set->next_spare = tl->spare;
    tl->spare = set;
    ++tl->spare_count;
  }
}

void resumed_holding_locks(frame &f, const site *at, std::uint64_t suspended_ns) noexcept {
  held_locks *set = f.held_; // non-null only while it holds a lock
  if (set == nullptr)
    return;
  std::uint32_t here = t_state != nullptr ? t_state->index : 0;
  lock_registry &reg = lock_reg();
  registry_guard guard(reg);
  for (std::uint32_t i = 0; i < set->depth; ++i) {
    const held_lock &entry = set->entries[i];
    if (entry.at->kind == lock_kind::async)
      continue; // made to be held across suspensions
    bool fresh = false;
    held_across_record *made =
        bounded_record(reg, reg.held_across, std::make_tuple(entry.lock_class, entry.at, at), fresh);
    if (made == nullptr)
      continue;
    if (fresh) {
      made->coroutine_body = f.body_;
      made->coroutine = f.id();
      reg.pending_lines.push_back(
          "coroscope: lock '" + reg.classes[entry.lock_class].name + "' acquired at " +
          std::string(entry.at->file) + ":" + std::to_string(entry.at->line) +
          " was held while " + holder_name(f.body_, f.id(), here) + " was suspended at " +
          std::string(at->file) + ":" + std::to_string(at->line) + " [coro-lock-across-suspend]");
    }
    held_across_record &record = *made;
    ++record.count;
    if (entry.thread != here)
      ++record.other_thread;
    record.suspended_ns += suspended_ns;
    record.max_suspended_ns = std::max(record.max_suspended_ns, suspended_ns);
  }
}

void ended_holding_locks(frame &f) noexcept {
  held_locks *set = f.held_;
  f.held_ = nullptr;
  if (set == nullptr)
    return;
  // A lock that outlives its coroutine (a guard moved out, a manual lock)
  // is its thread's now, so that its release still finds it.
  thread_locks &tl = locks_of(*this_thread());
  for (std::uint32_t i = 0; i < set->depth; ++i) {
    if (tl.outside.depth == kMaxHeldLocks) {
      lock_reg().drop_depth.fetch_add(set->depth - i, std::memory_order_relaxed);
      break;
    }
    tl.outside.entries[tl.outside.depth++] = set->entries[i];
  }
  give_back_held_set(tl, set);
}

} // namespace coroscope::detail
