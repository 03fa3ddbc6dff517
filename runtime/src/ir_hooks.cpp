// The IR engine's hooks (coroscope/ir_abi.h): the same frame and the same
// per-await logic as the source engine's inline hooks, reached by one call
// per event, since an IR pass cannot inline the header's templates.
#include "tracker.hpp"

#include <coroscope/ir_abi.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>

using coroscope::frame;
using coroscope::site;

static_assert(sizeof(frame) == COROSCOPE_IR_FRAME_SIZE, "update ir_abi.h");
static_assert(alignof(frame) == COROSCOPE_IR_FRAME_ALIGN, "update ir_abi.h");
static_assert(sizeof(site) == COROSCOPE_IR_SITE_SIZE);
static_assert(offsetof(site, function) == 0 && offsetof(site, file) == 8 &&
              offsetof(site, line) == 16 && offsetof(site, column) == 20 &&
              offsetof(site, kind) == 24 && offsetof(site, waits_for) == 25 &&
              offsetof(site, records_exceptions) == 26);
using coroscope::awaits;
using coroscope::site_kind;
static_assert(unsigned(site_kind::body) == COROSCOPE_IR_KIND_BODY &&
              unsigned(site_kind::await) == COROSCOPE_IR_KIND_AWAIT &&
              unsigned(site_kind::yield) == COROSCOPE_IR_KIND_YIELD &&
              unsigned(site_kind::last_yield) == COROSCOPE_IR_KIND_LAST_YIELD &&
              unsigned(site_kind::creation) == COROSCOPE_IR_KIND_CREATION);
static_assert(sizeof(void *) + sizeof(coroscope::detail::ramp_creation) <= COROSCOPE_IR_FRAME_SIZE);
static_assert(unsigned(awaits::event) == COROSCOPE_IR_AWAITS_EVENT &&
              unsigned(awaits::child) == COROSCOPE_IR_AWAITS_CHILD &&
              unsigned(awaits::schedule) == COROSCOPE_IR_AWAITS_SCHEDULE &&
              unsigned(awaits::timer) == COROSCOPE_IR_AWAITS_TIMER &&
              unsigned(awaits::timer_task) == COROSCOPE_IR_AWAITS_TIMER_TASK);

static_assert(sizeof(coroscope::lock_site) == COROSCOPE_IR_LOCK_SITE_SIZE);
static_assert(offsetof(coroscope::lock_site, lock_class) == 0 &&
              offsetof(coroscope::lock_site, function) == 8 &&
              offsetof(coroscope::lock_site, file) == 16 &&
              offsetof(coroscope::lock_site, line) == 24 &&
              offsetof(coroscope::lock_site, column) == 28 &&
              offsetof(coroscope::lock_site, kind) == 32);
static_assert(unsigned(coroscope::lock_kind::mutex) == COROSCOPE_IR_LOCK_KIND_MUTEX &&
              unsigned(coroscope::lock_kind::shared) == COROSCOPE_IR_LOCK_KIND_SHARED &&
              unsigned(coroscope::lock_kind::async) == COROSCOPE_IR_LOCK_KIND_ASYNC);

namespace {

frame &frame_at(void *storage) noexcept { return *static_cast<frame *>(storage); }

// The body site, the storage's first pointer: null before the body starts,
// after it ended, and for a body that started with the runtime off.
bool live(void *storage) noexcept { return *static_cast<const site *const *>(storage) != nullptr; }

// The ramp's record, after the null body site; raw bytes until the body
// starts and the frame is made over them.
void *ramp_record(void *storage) noexcept { return static_cast<char *>(storage) + sizeof(void *); }

// A coroutine's counts of awaits that did not suspend, laid out as the pass
// lays them out (ir_abi.h). The pass writes the counts with relaxed atomic
// stores; the runtime reads them as atomics.
struct ready_entry {
  const site *at;
  std::atomic<std::uint64_t> count;
};
struct ready_table {
  std::atomic<ready_table *> next;
  std::uint64_t size;
  ready_entry *entries() noexcept {
    return reinterpret_cast<ready_entry *>(reinterpret_cast<char *>(this) +
                                           COROSCOPE_IR_READY_HEADER_SIZE);
  }
};
static_assert(sizeof(ready_table) == COROSCOPE_IR_READY_HEADER_SIZE &&
              sizeof(ready_entry) == COROSCOPE_IR_READY_ENTRY_SIZE &&
              std::atomic<std::uint64_t>::is_always_lock_free);

// Registered from module constructors, possibly before main and before the
// runtime is configured: a list with a constant-initialised head, only
// prepended to.
constinit std::atomic<ready_table *> g_ready_tables{nullptr};

template <typename Visit> void each_ready_entry(Visit visit) {
  for (ready_table *t = g_ready_tables.load(std::memory_order_acquire); t != nullptr;
       t = t->next.load(std::memory_order_relaxed))
    for (std::uint64_t i = 0; i < t->size; ++i)
      visit(t->entries()[i]);
}

} // namespace

namespace coroscope::detail {

void for_each_ready_count(const std::function<void(const site *, std::uint64_t)> &visit) {
  each_ready_entry([&](ready_entry &e) {
    if (std::uint64_t n = e.count.load(std::memory_order_relaxed); n != 0 && e.at != nullptr)
      visit(e.at, n);
  });
}

void zero_ready_counts() {
  each_ready_entry([](ready_entry &e) { e.count.store(0, std::memory_order_relaxed); });
}

} // namespace coroscope::detail

extern "C" {

void coroscope_ir_created(void *storage) noexcept {
  // Off now is off at the body's start, which then reads nothing.
  if (!coroscope::detail::tracking())
    return;
  coroscope::detail::ramp_creation ramp;
  coroscope::detail::record_ramp_creation(ramp);
  std::memcpy(ramp_record(storage), &ramp, sizeof ramp);
}

void coroscope_ir_creating(void *storage, const site *at) noexcept {
  if (live(storage))
    coroscope::creating(frame_at(storage), at);
}

void coroscope_ir_begin(void *storage, const site *body) noexcept {
  // Off: the storage keeps its null body, and the other hooks return at once.
  if (!coroscope::detail::tracking())
    return;
  coroscope::detail::ramp_creation ramp;
  std::memcpy(&ramp, ramp_record(storage), sizeof ramp);
  coroscope::detail::thread_state &thread = *coroscope::detail::this_thread();
  thread.starting_ramp = &ramp;
  new (storage) frame(body);
  thread.starting_ramp = nullptr;
}

// Flattened: the per-suspension path is one call, not three.
[[gnu::flatten]] void coroscope_ir_suspend(void *storage, const site *at) noexcept {
  if (!live(storage))
    return;
  frame &f = frame_at(storage);
  bool yield =
      at->kind == coroscope::site_kind::yield || at->kind == coroscope::site_kind::last_yield;
  f.expression_yield_.store(yield ? at : nullptr, std::memory_order_relaxed);
  f.ir_wait_stats_ = f.suspend(at);
}

[[gnu::flatten]] void coroscope_ir_resume(void *storage) noexcept {
  if (!live(storage))
    return;
  frame &f = frame_at(storage);
  f.resume(f.site_.load(std::memory_order_relaxed), f.ir_wait_stats_);
}

void coroscope_ir_failed(void *storage) noexcept {
  if (live(storage))
    frame_at(storage).fail();
}

void coroscope_ir_end(void *storage) noexcept {
  if (!live(storage))
    return;
  frame &f = frame_at(storage);
  if (f.failure_ == nullptr)
    f.returning();
  coroscope::detail::end_coroutine(f); // nulls the body
}

void coroscope_ir_destroyed(void *storage) noexcept {
  if (live(storage))
    coroscope::detail::end_coroutine(frame_at(storage));
}

void coroscope_ir_unwound(void *storage) noexcept {
  if (live(storage))
    coroscope::detail::end_coroutine(frame_at(storage));
}

void coroscope_ir_lock_waiting(const void *mutex, const coroscope::lock_site *at,
                               std::int64_t *token) noexcept {
  coroscope::detail::lock_wait_token wait = coroscope::lock_waiting(mutex, at);
  *token = wait.contended ? wait.since : INT64_MIN;
}

void coroscope_ir_lock_acquired(const void *mutex, const coroscope::lock_site *at,
                                const std::int64_t *token) noexcept {
  coroscope::detail::lock_wait_token wait;
  if (*token != INT64_MIN)
    wait = {*token, true, true};
  coroscope::lock_acquired(mutex, at, wait);
}

void coroscope_ir_lock_released(const void *mutex, const coroscope::lock_site *at) noexcept {
  coroscope::lock_released(mutex, at);
}

void coroscope_ir_ready_sites(void *table) noexcept {
  auto *t = static_cast<ready_table *>(table);
  ready_table *head = g_ready_tables.load(std::memory_order_relaxed);
  do
    t->next.store(head, std::memory_order_relaxed);
  while (!g_ready_tables.compare_exchange_weak(head, t, std::memory_order_release,
                                               std::memory_order_relaxed));
}

} // extern "C"
