// The registry of live coroutines: the sharded lists that a snapshot, the
// watchdog and a reader outside the process walk, and the bounded record
// lists. Every list change is bracketed by the shard's generation, so that
// a reader outside the process can tell a torn read.
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include "coroscope/debug_layout.hpp"

#include <algorithm>
#include <cstring>

namespace coroscope::detail {

// Never destroyed: coroutines may end during static destruction.
runtime &rt() {
  static runtime *instance = [] {
    auto *r = new runtime;
    publish_registry(*r);
    return r;
  }();
  return *instance;
}

namespace {

// The shard's generation is odd while its list changes; the caller holds
// the shard's lock.
void begin_list_change(shard &s) {
  s.generation.store(s.generation.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void end_list_change(shard &s) {
  s.generation.store(s.generation.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

// What a reader outside the process checks a record against.
std::uint64_t check_of(const frame &f) {
  return debug_layout::record_check(f.id_, reinterpret_cast<std::uintptr_t>(&f), f.name_version_);
}

} // namespace

void link_live(frame &f) {
  shard &s = rt().shards[f.shard_];
  begin_list_change(s);
  f.check_.store(check_of(f), std::memory_order_relaxed);
  f.next_ = s.head;
  if (s.head != nullptr)
    s.head->prev_ = &f;
  s.head = &f;
  end_list_change(s);
}

void unlink_live(frame &f) {
  shard &s = rt().shards[f.shard_];
  begin_list_change(s);
  f.check_.store(0, std::memory_order_relaxed);
  if (f.prev_ != nullptr)
    f.prev_->next_ = f.next_;
  else
    s.head = f.next_;
  if (f.next_ != nullptr)
    f.next_->prev_ = f.prev_;
  end_list_change(s);
}

void name_frame(frame &f, std::string_view name) noexcept {
  shard &s = rt().shards[f.shard_];
  std::lock_guard guard(s.lock);
  // A reader outside must not take half a name for the record's.
  begin_list_change(s);
  f.check_.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::size_t n = std::min(name.size(), sizeof f.name_ - 1);
  std::memcpy(f.name_, name.data(), n);
  f.name_[n] = '\0';
  ++f.name_version_;
  f.check_.store(check_of(f), std::memory_order_release);
  end_list_change(s);
}

void forget_records_unlocked() {
  runtime &r = rt();
  r.slow_steps.clear();
  r.hangs.clear();
  r.queued.clear();
  r.never_started_logged.clear();
  r.failures.clear();
  r.cancelled.clear();
  for (auto *counter : {&r.slow_total, &r.hang_total, &r.queued_total, &r.failure_total,
                        &r.drop_sites, &r.drop_slow, &r.drop_hangs, &r.drop_failures,
                        &r.drop_cancelled, &r.drop_trace, &r.drop_log,
                        &r.never_started_total})
    counter->store(0);
  for (auto &slot : r.adopted)
    slot.store(0);
  for (shard &s : r.shards) {
    s.recent = minute_ring{};
    std::fill(std::begin(s.fates), std::end(s.fates), 0);
  }
  r.log_second = -1;
  forget_lock_records();
}

} // namespace coroscope::detail
