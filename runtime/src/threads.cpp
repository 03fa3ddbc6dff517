// Per-thread state: each thread's record, and its site statistics, interned
// once and then found through the thread's cache.
#include "lock_tracker.hpp"
#include "tracker.hpp"

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

thread_state *make_thread_state() noexcept {
  static thread_record overflow; // used only when memory runs out
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
  t_state = &record->state;
  return t_state;
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
