// Per-thread state: each thread's record, and its site statistics, interned
// once and then found through the thread's cache.
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include <algorithm>
#include <new>

#include <sys/syscall.h>
#include <unistd.h>

namespace coroscope::detail {

namespace {

void zero(histogram &h) {
  h.count.value.store(0);
  h.sum_ns.value.store(0);
  h.max_ns.value.store(0);
  h.min_plus_one.value.store(0);
  for (counter &b : h.buckets)
    b.value.store(0);
}

} // namespace

thread_record *record_of(thread_state &state) { return static_cast<thread_record *>(state.owner); }

void zero(site_stats &s) {
  for (counter *c :
       {&s.count, &s.finished, &s.failed, &s.cancelled, &s.abandoned, &s.never_started,
        &s.slow_steps, &s.running_ns, &s.suspended_ns, &s.suspensions, &s.cross_thread_resumptions})
    c->value.store(0);
  zero(s.wait);
  zero(s.step);
}

namespace {

// Gives the thread's record back when the thread exits. Its statistics stay
// where readers find them; only what the owner alone touches is reset when
// another thread takes it over.
struct record_release {
  thread_record *record = nullptr;
  ~record_release();
};
thread_local record_release t_release;
// Set once the thread's record is given back: a coroutine that a later
// thread_local destructor runs gets a record that is never given back.
constinit thread_local bool t_released = false;

// A record another thread can own next: one whose trace or held locks
// would otherwise be attributed to the wrong thread is not.
bool reusable(thread_record &t) {
  if (t.trace_head.load(std::memory_order_relaxed) != nullptr)
    return false;
  thread_locks *tl = t.locks.load(std::memory_order_relaxed);
  return tl == nullptr || (tl->outside.depth == 0 &&
                           tl->waiting_mutex.load(std::memory_order_relaxed) == nullptr);
}

record_release::~record_release() {
  if (record == nullptr)
    return;
  t_released = true;
  t_state = nullptr;
  if (record->state.current != nullptr || !reusable(*record))
    return;
  runtime &r = rt();
  try {
    std::lock_guard guard(r.registry_lock);
    r.free_records.push_back(record);
  } catch (...) {
  }
}

// A record given back by an exited thread, made this thread's: a new thread
// number, its tid, and the per-thread state of a thread that has run
// nothing yet. The statistics and the caches that point at them stay.
thread_record *take_free_record() noexcept {
  runtime &r = rt();
  try {
    std::lock_guard guard(r.registry_lock);
    if (r.free_records.empty())
      return nullptr;
    thread_record *record = r.free_records.back();
    r.free_records.pop_back();
    thread_state &s = record->state;
    const std::uint64_t next_id = s.next_id, id_limit = s.id_limit;
    void *locks = s.locks;
    thread_state fresh;
    std::copy(std::begin(s.cache), std::end(s.cache), std::begin(fresh.cache));
    fresh.next_id = next_id;
    fresh.id_limit = id_limit;
    fresh.locks = locks;
    fresh.owner = record;
    fresh.index = r.next_thread.fetch_add(1, std::memory_order_relaxed);
    s = fresh;
    record->last_failure = {};
    record->trace_tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)),
                            std::memory_order_relaxed);
    return record;
  } catch (...) {
    return nullptr;
  }
}

} // namespace

thread_state *make_thread_state() noexcept {
  static thread_record overflow; // used only when memory runs out
  if (!t_released) {
    if (thread_record *record = take_free_record()) {
      t_release.record = record;
      t_state = &record->state;
      return t_state;
    }
  }
  auto *record = new (std::nothrow) thread_record;
  if (record == nullptr) {
    g_gate.store(2, std::memory_order_relaxed);
    overflow.state.owner = &overflow;
    t_state = &overflow.state;
    return t_state;
  }
  runtime &r = rt();
  record->state.owner = record;
  record->state.index = r.next_thread.fetch_add(1, std::memory_order_relaxed);
  record->trace_tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)),
                          std::memory_order_relaxed);
  try {
    std::lock_guard guard(r.registry_lock);
    r.threads.push_back(record);
    record->published_next = r.published_threads.load(std::memory_order_relaxed);
    r.published_threads.store(record, std::memory_order_release);
  } catch (...) {
  }
  if (!t_released)
    t_release.record = record;
  t_state = &record->state;
  return t_state;
}

std::size_t thread_records_for_testing() {
  runtime &r = rt();
  std::lock_guard guard(r.registry_lock);
  return r.threads.size();
}

site_stats *intern_site(thread_state &thread, const site *where) noexcept {
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  site_stats *stats = nullptr;
  try {
    auto found = record.sites.find(where);
    if (found != record.sites.end()) {
      stats = found->second;
    } else if (r.site_blocks.fetch_add(1, std::memory_order_relaxed) <
               static_cast<std::int64_t>(r.cfg.max_site_blocks)) {
      stats = new site_stats;
      stats->where = where;
      record.sites.emplace(where, stats);
      stats->next_in_thread = record.site_list.load(std::memory_order_relaxed);
      record.site_list.store(stats, std::memory_order_release);
    }
  } catch (...) {
    stats = nullptr;
  }
  if (stats == nullptr) {
    // Out of blocks: count the event as dropped and write it nowhere useful.
    r.drop_sites.fetch_add(1, std::memory_order_relaxed);
    thread_local site_stats sink;
    return &sink;
  }
  auto slot = (reinterpret_cast<std::uintptr_t>(where) >> 4) & (kSiteCacheSize - 1);
  thread.cache[slot] = {where, stats};
  return stats;
}

void zero_thread(thread_record &t) {
  for (site_stats *s = t.site_list.load(); s != nullptr; s = s->next_in_thread)
    zero(*s);
  for (edge_stats *e = t.edge_list.load(); e != nullptr; e = e->next_in_thread)
    e->count.value.store(0);
  t.last_failure = {};
  if (thread_locks *tl = t.locks.load())
    tl->sample_countdown = 1; // the next hold is timed, whatever the new sampling
  if (thread_locks *tl = t.locks.load())
    if (auto *table = tl->stats.load())
      for (std::size_t c = 0; c < kMaxLockClasses; ++c)
        if (lock_class_stats *s = table[c].load()) {
          for (counter *n : {&s->acquisitions, &s->contended, &s->longest_hold_ns})
            n->value.store(0);
          zero(s->wait);
          zero(s->hold);
        }
}

} // namespace coroscope::detail
