// The trace buffers: per thread, chunks of step slots that only the thread
// that ran the steps writes, without locks, and that any thread may read
// while it writes.
//
// Without a window the chunks fill up to the global bound
// (COROSCOPE_TRACE_EVENTS) and later steps are dropped, as they always
// were. With a window (COROSCOPE_TRACE_WINDOW) a thread's chunks form a
// ring: when its chunk is full and the oldest one is no longer needed for
// the window, that one is reused. A ring also reuses its oldest chunk when
// the bound allows no new one: the newest steps are the ones to keep.
//
// Readers never wait. A chunk says which step its first slot holds, and a
// slot holds its step's index in the thread plus one (0 while it is
// written), read before and after its fields: a slot rewritten during the
// copy is skipped. A reader takes only steps written before it started and
// not yet dropped, so what a concurrent writer can cost it is the oldest
// few steps of a ring: never a torn step, a step twice, or a gap.
#include "trace.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <sys/syscall.h>
#include <unistd.h>

namespace coroscope::detail {
namespace {

// Slot fields are plain data, accessed atomically: chunks can then come
// from malloc, and copies of steps are plain structs.
template <typename T> void put(T &field, T value) {
  std::atomic_ref<T>(field).store(value, std::memory_order_relaxed);
}
template <typename T> T get(T &field) {
  return std::atomic_ref<T>(field).load(std::memory_order_relaxed);
}

std::uint32_t chunks_for_steps(std::size_t steps) {
  // One chunk more than the window needs: after the oldest is reused, the
  // rest still holds the window.
  std::size_t full = (steps + kTraceChunkEvents - 1) / kTraceChunkEvents;
  return static_cast<std::uint32_t>(std::min<std::size_t>(full + 1, UINT32_MAX));
}

// Whether the oldest chunk of a full ring lies wholly outside the window.
bool oldest_out_of_window(const thread_record &t, std::int64_t now) {
  const config &cfg = rt().cfg;
  if (cfg.trace_window_steps != 0)
    return t.trace_chunks >= chunks_for_steps(cfg.trace_window_steps);
  std::int64_t ended = get(t.trace_first->slots[kTraceChunkEvents - 1].step.end);
  return double(ticks_to_ns(now - ended)) > cfg.trace_window_seconds * 1e9;
}

// Makes the oldest chunk the one being written. Its steps count as dropped
// from now on, before they are overwritten: no dump shows a dropped step.
void reuse_oldest(thread_record &t, std::atomic<std::uint64_t> &dropped) {
  trace_chunk *chunk = t.trace_first;
  t.trace_first = chunk->ring_next;
  t.trace_tail = chunk;
  t.trace_fill = 0;
  t.trace_kept_from.store(get(chunk->base) + kTraceChunkEvents, std::memory_order_release);
  std::atomic_ref(chunk->base)
      .store(t.trace_written.load(std::memory_order_relaxed), std::memory_order_release);
  dropped.fetch_add(kTraceChunkEvents, std::memory_order_relaxed);
}

trace_chunk *new_chunk() {
  runtime &r = rt();
  constexpr auto size = static_cast<std::int64_t>(kTraceChunkEvents);
  if (r.trace_budget.fetch_sub(size, std::memory_order_relaxed) < size) {
    r.trace_budget.fetch_add(size, std::memory_order_relaxed);
    return nullptr;
  }
  auto *chunk = static_cast<trace_chunk *>(std::malloc(sizeof(trace_chunk)));
  if (chunk == nullptr)
    r.trace_budget.fetch_add(size, std::memory_order_relaxed);
  return chunk;
}

// Inserts `chunk` after the one being written and writes it next.
void add_chunk(thread_record &t, trace_chunk *chunk) {
  chunk->next = t.trace_head.load(std::memory_order_relaxed);
  chunk->base = t.trace_written.load(std::memory_order_relaxed);
  if (t.trace_tail == nullptr) {
    chunk->ring_next = chunk;
    t.trace_first = chunk;
  } else {
    chunk->ring_next = t.trace_tail->ring_next;
    t.trace_tail->ring_next = chunk;
  }
  t.trace_head.store(chunk, std::memory_order_release);
  t.trace_tail = chunk;
  t.trace_fill = 0;
  ++t.trace_chunks;
}

// Finds room for the next step: false drops it.
bool make_room(thread_record &t, std::int64_t now) {
  runtime &r = rt();
  if (t.trace_tail == nullptr) { // a new buffer (first step, or after fork)
    t.trace_chunks = 0;
    t.trace_first = nullptr;
    t.trace_tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)),
                      std::memory_order_relaxed);
  }
  bool ring = window_configured(r.cfg) && t.trace_chunks > 0;
  if (ring && oldest_out_of_window(t, now)) {
    reuse_oldest(t, r.drop_trace_window);
    return true;
  }
  if (trace_chunk *chunk = new_chunk()) {
    add_chunk(t, chunk);
    return true;
  }
  if (ring) {
    reuse_oldest(t, r.drop_trace);
    return true;
  }
  r.drop_trace.fetch_add(1, std::memory_order_relaxed);
  return false;
}

struct indexed_step {
  std::uint64_t seq;
  step_record step;
};

// Copies the thread's steps with seq in (after, last], skipping torn slots.
// `keep` filters the copies (the time window).
template <typename Keep>
void copy_steps(const thread_record &t, std::uint64_t after, std::uint64_t last, Keep keep,
                std::vector<indexed_step> &out, std::uint64_t &left_out) {
  for (trace_chunk *chunk = t.trace_head.load(std::memory_order_acquire); chunk != nullptr;
       chunk = chunk->next) {
    // Slots [0, written) of this round hold steps base, base + 1, ...
    std::uint64_t base = std::atomic_ref(chunk->base).load(std::memory_order_acquire);
    std::uint64_t written =
        last > base ? std::min<std::uint64_t>(last - base, kTraceChunkEvents) : 0;
    for (std::uint64_t i = 0; i < written; ++i) {
      std::uint64_t seq = base + i + 1;
      trace_slot &slot = chunk->slots[i];
      if (seq <= after || std::atomic_ref(slot.seq).load(std::memory_order_acquire) != seq)
        continue;
      step_record &from = slot.step;
      step_record s{get(from.begin), get(from.end),  get(from.coroutine), get(from.body),
                    get(from.from),  get(from.to),   get(from.step),      get(from.suspended)};
      // Pairs with the writer's release fence: a field from a later write
      // makes this second read see the slot's new sequence number.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (get(slot.seq) != seq)
        continue;
      if (!keep(s)) {
        ++left_out;
        continue;
      }
      out.push_back({seq, s});
    }
  }
}

} // namespace

void trace_step(thread_state &thread, const frame &f, const site *to, std::int64_t begin,
                std::int64_t end, bool suspended) noexcept {
  thread_record &t = *record_of(thread);
  if (t.trace_tail == nullptr || t.trace_fill == kTraceChunkEvents) [[unlikely]]
    if (!make_room(t, end))
      return;
  std::uint64_t index = t.trace_written.load(std::memory_order_relaxed);
  trace_slot &slot = t.trace_tail->slots[t.trace_fill++];
  put<std::uint64_t>(slot.seq, 0);
  std::atomic_thread_fence(std::memory_order_release);
  step_record &s = slot.step;
  put(s.begin, begin);
  put(s.end, end);
  put(s.coroutine, f.id_);
  put(s.body, f.body_);
  put(s.from, f.site_.load(std::memory_order_relaxed));
  put(s.to, to);
  put(s.step, f.suspensions_.load(std::memory_order_relaxed));
  put(s.suspended, suspended);
  std::atomic_ref(slot.seq).store(index + 1, std::memory_order_release);
  t.trace_written.store(index + 1, std::memory_order_release);
}

trace_snapshot take_trace_snapshot(const char *reason) {
  runtime &r = rt();
  const config &cfg = r.cfg;
  trace_snapshot snapshot;
  snapshot.reason = reason;
  snapshot.window = window_label(cfg);
  std::vector<thread_record *> threads;
  {
    // Records are never freed: they can be read without the lock.
    std::lock_guard guard(r.registry_lock);
    threads = r.threads;
  }
  snapshot.taken_at = now_ticks();
  // Steps that ended before `cut` are older than a time window.
  std::int64_t cut = INT64_MIN;
  if (cfg.trace_window_steps == 0 && cfg.trace_window_seconds > 0)
    cut = snapshot.taken_at -
          static_cast<std::int64_t>(cfg.trace_window_seconds * 1e9 /
                                    g_ns_per_tick.load(std::memory_order_relaxed));
  std::uint64_t left_out = 0;
  std::vector<indexed_step> copied;
  for (const thread_record *t : threads) {
    std::uint64_t last = t->trace_written.load(std::memory_order_acquire);
    std::uint64_t after = t->trace_kept_from.load(std::memory_order_acquire);
    if (cfg.trace_window_steps != 0 && last > cfg.trace_window_steps) {
      std::uint64_t window_start = last - cfg.trace_window_steps;
      if (window_start > after) {
        left_out += window_start - after; // in the ring, beyond the window
        after = window_start;
      }
    }
    copied.clear();
    copy_steps(*t, after, last, [cut](const step_record &s) { return s.end >= cut; }, copied,
               left_out);
    if (copied.empty())
      continue;
    // Chunks are read newest first, and a ring's oldest chunk may follow
    // its newest: order by index.
    std::sort(copied.begin(), copied.end(),
              [](const indexed_step &a, const indexed_step &b) { return a.seq < b.seq; });
    thread_trace &out = snapshot.threads.emplace_back();
    out.index = t->state.index;
    out.tid = t->trace_tid.load(std::memory_order_relaxed);
    out.steps.reserve(copied.size());
    for (const indexed_step &s : copied)
      out.steps.push_back(s.step);
    snapshot.steps += copied.size();
  }
  snapshot.dropped_by_bound = r.drop_trace.load(std::memory_order_relaxed);
  snapshot.dropped_by_window =
      r.drop_trace_window.load(std::memory_order_relaxed) + left_out;
  return snapshot;
}

void forget_trace() {
  runtime &r = rt();
  std::lock_guard guard(r.registry_lock);
  for (thread_record *t : r.threads) {
    trace_chunk *chunk = t->trace_head.exchange(nullptr);
    while (chunk != nullptr)
      std::free(std::exchange(chunk, chunk->next));
    t->trace_first = t->trace_tail = nullptr;
    t->trace_fill = t->trace_chunks = 0;
    t->trace_kept_from.store(t->trace_written.load());
  }
  r.drop_trace_window.store(0);
}

} // namespace coroscope::detail
