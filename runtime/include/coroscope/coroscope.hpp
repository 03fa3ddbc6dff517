// coroscope runtime: the tracker that instrumented coroutines call.
//
// The rewriter and the compiler plugin emit calls to this header only; users
// can write the same calls by hand through the COROSCOPE_* macros at the end.
// Everything on the per-await path is inline, lock-free and allocation-free.
#pragma once

#include "ir_abi.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define COROSCOPE_HAS_TSC 1
#else
#define COROSCOPE_HAS_TSC 0
#endif

namespace coroscope {

// last_yield: a co_yield with nothing after it in the body (sync_wait and
// when_all tasks end with `co_yield co_await x`); a coroutine destroyed
// there has finished, where one destroyed at another yield was abandoned.
// creation: a call in a coroutine body that creates a coroutine (`co_spawn(ex,
// f(), detached)`, `auto t = f();`): where its creator made it.
enum class site_kind : std::uint8_t { body, await, yield, last_yield, creation };

// What an await site waits for; it decides what a long wait there means.
enum class awaits : std::uint8_t {
  // I/O, a timer, a lock, an event: a wait longer than COROSCOPE_HANG_MS is
  // a hang.
  event,
  // A coroutine it starts (`co_await child()`), or an operand whose type is
  // not known where the site is written (a template): the next tracked
  // coroutine to start on this thread is its child, and a long wait here is
  // the child's, reported at the child.
  child,
  // A turn on an executor (`pool.schedule()`, `resume_on(ex)`, `asio::post`):
  // a long wait is queueing behind other work, not a hang.
  schedule,
  // A delay the program asked for (a timer's `async_wait`, folly's `sleep`):
  // a long wait there is the delay, not a hang.
  timer,
  // A delay that a coroutine it starts implements (libcoro's `yield_for`):
  // that child's waits are the delay too. Reports name both "timer".
  timer_task,
};

// A place in the source known at compile time: a coroutine body or one of its
// suspension points. Sites are static constants and are identified by their
// address. Instrumentation names the function on every site; a null
// `function` on an await site leaves the site's report entry without one
// (records of a live coroutine still use its body's name).
struct site {
  const char *function;
  const char *file;
  std::uint32_t line;
  std::uint32_t column;
  site_kind kind;
  awaits waits_for = awaits::event;
  // Body sites: the body records the exception that leaves it
  // (COROSCOPE_CATCH), so a frame destroyed during stack unwinding without
  // one is cancelled, not failed.
  bool records_exceptions = false;
};

// Task types that declare their promise inside (cppcoro, folly, libcoro).
// asio::awaitable does not, and neither does an Asio async operation, so
// Asio children are marked by hand with COROSCOPE_AWAIT_CHILD.
template <typename T>
inline constexpr bool is_task_v = requires { typename std::remove_cvref_t<T>::promise_type; };

// `cancelled`: destroyed while suspended at an await. `abandoned`: a
// generator destroyed while suspended at a co_yield, which is how a consumer
// stops early; not an error.
enum class state : std::uint8_t { running, suspended, finished, failed, cancelled, abandoned };

// The names reports and `coroscope ps` give states and what sites wait
// for; null for a value out of range (read from another process).
constexpr const char *state_name(state s) noexcept {
  switch (s) {
  case state::running: return "running";
  case state::suspended: return "suspended";
  case state::finished: return "finished";
  case state::failed: return "failed";
  case state::cancelled: return "cancelled";
  case state::abandoned: return "abandoned";
  }
  return nullptr;
}
// "event", "child", "schedule" or "timer": a timer_task site is a timer.
constexpr const char *awaits_name(awaits a) noexcept {
  switch (a) {
  case awaits::event: return "event";
  case awaits::child: return "child";
  case awaits::schedule: return "schedule";
  case awaits::timer:
  case awaits::timer_task: return "timer";
  }
  return nullptr;
}

class frame;
class await_scope;

// The runtime's entry points. Instrumented code refers to them weakly, so an
// instrumented object links and runs without the runtime library: a build
// system's configure probe (CMake's try_compile with the plugin in
// CMAKE_CXX_FLAGS) must not fail. Tracking is then off, with one warning.
// The runtime pulls them all in through one strong symbol, which its
// library names for the linker (docs/tools/instrument.md).
#if defined(COROSCOPE_RUNTIME_BUILD)
#define COROSCOPE_ENTRY
#else
#define COROSCOPE_ENTRY __attribute__((weak))
#endif

namespace detail {
struct failure_record;

// 0: not yet configured, 1: tracking, 2: off (COROSCOPE=off).
inline constinit std::atomic<std::uint8_t> g_gate{0};
inline constinit std::atomic<bool> g_use_tsc{false};
inline constinit std::atomic<bool> g_trace_on{false};
inline constinit std::atomic<std::int64_t> g_slow_ticks{INT64_MAX};
inline constinit std::atomic<std::int64_t> g_hang_ticks{INT64_MAX};
inline constinit std::atomic<double> g_ns_per_tick{1.0};
// A clock that moves only when a test moves it (testing.hpp); checked only
// on the steady_clock path, so the TSC path pays nothing for it.
inline constinit std::atomic<bool> g_manual_clock{false};
inline constinit std::atomic<std::int64_t> g_manual_now{0};

COROSCOPE_ENTRY bool configure_runtime() noexcept;

// Instrumented code without the runtime: tracking off, said once.
inline bool runtime_missing() noexcept {
  std::uint8_t unconfigured = 0;
  if (g_gate.compare_exchange_strong(unconfigured, 2)) {
    const char *setting = std::getenv("COROSCOPE");
    bool quiet = setting != nullptr && (std::strcmp(setting, "0") == 0 ||
                                        std::strcmp(setting, "off") == 0);
    if (!quiet)
      std::fputs(COROSCOPE_RUNTIME_MISSING_LINE, stderr);
  }
  return false;
}

inline bool configure_on_first_use() noexcept {
#if !defined(COROSCOPE_RUNTIME_BUILD)
  if (&configure_runtime == nullptr)
    return runtime_missing();
#endif
  return configure_runtime();
}

inline bool tracking() noexcept {
  auto gate = g_gate.load(std::memory_order_relaxed);
  if (gate == 1) [[likely]]
    return true;
  return gate == 0 && configure_on_first_use();
}

inline std::int64_t now_ticks() noexcept {
#if COROSCOPE_HAS_TSC
  if (g_use_tsc.load(std::memory_order_relaxed)) [[likely]]
    return static_cast<std::int64_t>(__rdtsc());
#endif
  if (g_manual_clock.load(std::memory_order_relaxed)) [[unlikely]]
    return g_manual_now.load(std::memory_order_relaxed);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::uint64_t ticks_to_ns(std::int64_t ticks) noexcept {
  if (ticks <= 0)
    return 0;
  // Through int64: one instruction, where a double-to-uint64 conversion
  // takes several. 2^63 ns is centuries.
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(
      static_cast<double>(ticks) * g_ns_per_tick.load(std::memory_order_relaxed)));
}

// A counter with one writer (its thread) and any number of readers.
struct counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t delta) noexcept {
    value.store(value.load(std::memory_order_relaxed) + delta,
                std::memory_order_relaxed);
  }
  void raise_to(std::uint64_t candidate) noexcept {
    if (candidate > value.load(std::memory_order_relaxed))
      value.store(candidate, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept {
    return value.load(std::memory_order_relaxed);
  }
};

// Log-linear buckets over nanoseconds: values below 8 ns get a bucket each,
// then every power of two is split into 8 buckets, each at most 12.5% wide.
// Reports print a percentile as its bucket's range when that is wider than
// 1%, never as a single made-up value.
inline constexpr int kSubBucketBits = 3;
inline constexpr int kMaxExponent = 45; // 2^45 ns is about 9.8 hours
inline constexpr int kBucketCount =
    (1 << kSubBucketBits) + (kMaxExponent - kSubBucketBits + 1) * (1 << kSubBucketBits);

constexpr int bucket_of(std::uint64_t ns) noexcept {
  if (ns < (1u << kSubBucketBits))
    return static_cast<int>(ns);
  int exponent = 63 - __builtin_clzll(ns);
  if (exponent > kMaxExponent)
    return kBucketCount - 1;
  int sub = static_cast<int>((ns >> (exponent - kSubBucketBits)) &
                             ((1u << kSubBucketBits) - 1));
  return (1 << kSubBucketBits) + (exponent - kSubBucketBits) * (1 << kSubBucketBits) + sub;
}

// Smallest value that falls in bucket `index`.
constexpr std::uint64_t bucket_floor(int index) noexcept {
  if (index < (1 << kSubBucketBits))
    return static_cast<std::uint64_t>(index);
  int rest = index - (1 << kSubBucketBits);
  int exponent = rest / (1 << kSubBucketBits) + kSubBucketBits;
  std::uint64_t sub = static_cast<std::uint64_t>(rest % (1 << kSubBucketBits));
  return (std::uint64_t{1} << exponent) + (sub << (exponent - kSubBucketBits));
}

struct histogram {
  counter count, sum_ns, max_ns;
  // The smallest value plus one, so that zero means "none yet".
  counter min_plus_one;
  counter buckets[kBucketCount];
  void record(std::uint64_t ns) noexcept {
    count.add(1);
    sum_ns.add(ns);
    max_ns.raise_to(ns);
    auto min = min_plus_one.get();
    if (min == 0 || ns + 1 < min)
      min_plus_one.value.store(ns + 1, std::memory_order_relaxed);
    buckets[bucket_of(ns)].add(1);
  }
};

struct edge_stats; // runtime-private: a parent -> child count

// Statistics of one site as seen by one thread; only that thread writes them.
// An await/yield site uses `wait` (its count is the site's count) and `step`
// (the step that ended by suspending there). A body site uses the lifecycle
// counters, `wait` as the coroutine's lifetime and `step` as the final steps.
struct site_stats {
  const site *where = nullptr;
  counter count; // body sites: coroutines started
  counter finished, failed, cancelled, abandoned, never_started, slow_steps;
  counter running_ns, suspended_ns, suspensions, cross_thread_resumptions;
  histogram wait;
  histogram step;
  site_stats *next_in_thread = nullptr;
  edge_stats *last_edge = nullptr; // body sites: the last parent edge counted
};

struct step_event; // trace record

inline constexpr int kSiteCacheSize = 256;

struct thread_state {
  struct cache_entry {
    const site *key;
    site_stats *stats;
  };
  cache_entry cache[kSiteCacheSize] = {};
  std::uint32_t index = 0;   // small per-process thread number
  frame *current = nullptr;  // the tracked coroutine running on this thread
  // The coroutine that suspended last on this thread at a child site, by id:
  // a coroutine starting next is the one it awaits. An id, because it may
  // end elsewhere; its body and site are static, so they may be kept.
  std::uint64_t pending_awaiter = 0;
  const site *pending_body = nullptr;
  const site *pending_site = nullptr;
  std::uint32_t pending_suspensions = 0;
  // The awaiter (adoption_key of its id and suspension) of the awaited child
  // that ended last on this thread: an awaiter resumed next is resumed by it.
  std::uint64_t ended_child_of = 0;
  std::uint64_t next_id = 0, id_limit = 0;
  void *owner = nullptr; // the runtime's record of this thread
  // The creation call a coroutine body just made (creating()): who made it,
  // where, and in which of its steps (its suspension count), so that a
  // coroutine started later by someone else does not take it.
  std::uint64_t creation_by = 0;
  const site *creation_body = nullptr;
  const site *creation_at = nullptr;
  std::uint32_t creation_step = 0;
  bool creation_in_await = false; // made in an operand of co_await
  // The frame of the coroutine whose body starts next (the IR pass).
  const void *starting_frame = nullptr;
  // The IR engine's record of who created the coroutine whose body starts
  // now (a detail::ramp_creation), or null.
  const void *starting_ramp = nullptr;
  // Lock tracking's per-thread state (runtime/src/lock_tracker.hpp), made
  // at the thread's first lock.
  void *locks = nullptr;
};

inline constinit thread_local thread_state *t_state = nullptr;

COROSCOPE_ENTRY thread_state *make_thread_state() noexcept;
COROSCOPE_ENTRY site_stats *intern_site(thread_state &thread, const site *where) noexcept;

inline thread_state *this_thread() noexcept {
  thread_state *thread = t_state;
  if (thread == nullptr) [[unlikely]]
    thread = make_thread_state();
  return thread;
}

inline site_stats *stats_for(thread_state &thread, const site *where) noexcept {
  auto slot = (reinterpret_cast<std::uintptr_t>(where) >> 4) & (kSiteCacheSize - 1);
  auto &entry = thread.cache[slot];
  if (entry.key == where) [[likely]]
    return entry.stats;
  return intern_site(thread, where);
}

// Out-of-line slow paths.
COROSCOPE_ENTRY void begin_coroutine(frame &f, const site *body) noexcept;
COROSCOPE_ENTRY void end_coroutine(frame &f) noexcept;
COROSCOPE_ENTRY void on_slow_step(frame &f, const site *to, std::int64_t begin,
                                  std::int64_t end) noexcept;
COROSCOPE_ENTRY void on_long_wait(frame &f, const site *at, std::int64_t begin,
                                  std::int64_t end) noexcept;
COROSCOPE_ENTRY void trace_step(thread_state &thread, const frame &f, const site *to,
                                std::int64_t begin, std::int64_t end, bool suspended) noexcept;
COROSCOPE_ENTRY void record_failure(frame &f) noexcept;
COROSCOPE_ENTRY void name_frame(frame &f, std::string_view name) noexcept;
// Lock tracking (locks.hpp): a coroutine resumed, or ended, holding locks.
struct held_locks;
COROSCOPE_ENTRY void resumed_holding_locks(frame &f, const site *at,
                                           std::uint64_t suspended_ns) noexcept;
COROSCOPE_ENTRY void ended_holding_locks(frame &f) noexcept;

} // namespace detail

// The tracking object: the first local of an instrumented coroutine body.
// Constructing it means the body started; destroying it means the coroutine
// finished (after `returning()`), failed (exception in flight or `fail()`), or
// was destroyed while suspended (cancelled, or abandoned at a co_yield).
class frame {
public:
  explicit frame(const site *body) noexcept {
    if (detail::tracking())
      detail::begin_coroutine(*this, body);
  }
  ~frame() {
    if (body_ != nullptr)
      detail::end_coroutine(*this);
    if (held_ != nullptr) [[unlikely]]
      detail::ended_holding_locks(*this);
  }
  frame(const frame &) = delete;
  frame &operator=(const frame &) = delete;

  // Marks a normal completion: `co_return`, or the end of the body.
  void returning() noexcept { returned_ = true; }
  // Records the exception being handled; call it from a catch handler.
  void fail() noexcept {
    if (body_ != nullptr)
      detail::record_failure(*this);
  }
  // A user-visible name, shown in reports and async stacks (truncated).
  // Without one, a coroutine is named by its function and the site it was
  // started from.
  void set_name(std::string_view name) noexcept {
    if (body_ != nullptr)
      detail::name_frame(*this, name);
  }

  bool tracked() const noexcept { return body_ != nullptr; }
  std::uint64_t id() const noexcept { return id_; }
  coroscope::state current_state() const noexcept {
    return static_cast<coroscope::state>(state_.load(std::memory_order_relaxed));
  }

  // The per-await hooks; see await_point().
  detail::site_stats *suspend(const site *at) noexcept {
    detail::thread_state &thread = *detail::t_state;
    auto now = detail::now_ticks();
    auto began = since_.load(std::memory_order_relaxed);
    auto *stats = detail::stats_for(thread, at);
    end_step(thread, stats, at, began, now, true);
    suspend_thread_ = thread.index;
    site_.store(at, std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    state_.store(static_cast<std::uint8_t>(state::suspended), std::memory_order_relaxed);
    thread.current = resumer_;
    bool child = at->waits_for == awaits::child || at->waits_for == awaits::timer_task;
    thread.pending_awaiter = child ? id_ : 0;
    thread.pending_body = body_;
    thread.pending_site = at;
    thread.pending_suspensions = suspensions_.load(std::memory_order_relaxed);
    return stats;
  }

  void resume(const site *at, detail::site_stats *stats) noexcept {
    detail::thread_state &thread = *detail::this_thread();
    auto now = detail::now_ticks();
    auto began = since_.load(std::memory_order_relaxed);
    auto wait_ns = detail::ticks_to_ns(now - began);
    // Statistics are per thread: a coroutine resumed elsewhere counts there.
    if (thread.index != suspend_thread_) [[unlikely]]
      stats = detail::stats_for(thread, at);
    stats->wait.record(wait_ns);
    if (now - began > detail::g_hang_ticks.load(std::memory_order_relaxed)) [[unlikely]]
      detail::on_long_wait(*this, at, began, now);
    suspended_ns_.store(suspended_ns_.load(std::memory_order_relaxed) + wait_ns,
                        std::memory_order_relaxed);
    suspensions_.store(suspensions_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
    if (thread.index != suspend_thread_)
      cross_thread_.store(cross_thread_.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    nested_ticks_.store(0, std::memory_order_relaxed);
    state_.store(static_cast<std::uint8_t>(state::running), std::memory_order_relaxed);
    resumer_ = thread.current;
    thread.current = this;
    thread.pending_awaiter = 0;
    if (held_ != nullptr) [[unlikely]]
      detail::resumed_holding_locks(*this, at, wait_ns);
  }

  // Closes the running step at `to` (a suspension point or the body's end).
  // A step is this coroutine's own time: coroutines it resumed inside the
  // step (an event's set(), a condition variable's notify) ran in their own
  // steps, and their time is given back to the coroutine that resumed this
  // one, if any.
  void end_step(detail::thread_state &thread, detail::site_stats *stats, const site *to,
                std::int64_t began, std::int64_t now, bool suspending) noexcept {
    if (resumer_ != nullptr)
      resumer_->nested_ticks_.store(
          resumer_->nested_ticks_.load(std::memory_order_relaxed) + (now - began),
          std::memory_order_relaxed);
    std::int64_t own = now - began - nested_ticks_.load(std::memory_order_relaxed);
    auto step_ns = detail::ticks_to_ns(own);
    stats->step.record(step_ns);
    running_ns_.store(running_ns_.load(std::memory_order_relaxed) + step_ns,
                      std::memory_order_relaxed);
    if (step_ns > max_step_ns_.load(std::memory_order_relaxed)) {
      max_step_ns_.store(step_ns, std::memory_order_relaxed);
      max_step_from_.store(site_.load(std::memory_order_relaxed), std::memory_order_relaxed);
      max_step_to_.store(to, std::memory_order_relaxed);
    }
    if (own > detail::g_slow_ticks.load(std::memory_order_relaxed)) [[unlikely]]
      detail::on_slow_step(*this, to, began, now);
    if (detail::g_trace_on.load(std::memory_order_relaxed)) [[unlikely]]
      detail::trace_step(thread, *this, to, began, now, suspending);
  }

  // Fields below are the runtime's; they are public only so that the inline
  // hooks and the library share one definition.
  const site *body_ = nullptr;
  std::uint64_t id_ = 0;
  std::uint64_t parent_id_ = 0;
  // The parent's body, and the site this coroutine was started from: the
  // parent's await site, or where the parent was when it spawned this one.
  const site *parent_body_ = nullptr;
  const site *start_site_ = nullptr;
  bool awaited_ = false; // the parent awaits it (not spawned)
  // The coroutine that created it (its spawn parent), and where: the
  // creator's site then. Creation is not awaiting: a task spawned onto an
  // executor has a creator and no awaiter.
  std::uint64_t creator_id_ = 0;
  const site *creator_body_ = nullptr;
  const site *creation_site_ = nullptr;
  // coroscope::waiting_for(): whom the suspension numbered
  // waits_on_suspension_ waits for; stale once it resumed.
  std::atomic<std::uint64_t> waits_on_{0};
  std::atomic<std::uint32_t> waits_on_suspension_{0};
  std::uint32_t parent_suspensions_ = 0; // the awaiting parent's, when it started
  std::atomic<std::uint8_t> state_{0};
  std::atomic<const site *> site_{nullptr}; // await site, or where the step began
  std::atomic<std::int64_t> since_{0};      // suspension start, or step start
  // Ticks of the current step spent in coroutines this one resumed.
  std::atomic<std::int64_t> nested_ticks_{0};
  std::int64_t start_ticks_ = 0;
  std::atomic<std::uint64_t> running_ns_{0}, suspended_ns_{0}, max_step_ns_{0};
  std::atomic<std::uint32_t> suspensions_{0}, cross_thread_{0};
  std::atomic<const site *> max_step_from_{nullptr}, max_step_to_{nullptr};
  std::atomic<std::uint64_t> watchdog_mark_{0}; // last stall/hang reported
  std::uint32_t suspend_thread_ = 0;
  std::uint32_t start_thread_ = 0;
  int uncaught_at_start_ = 0;
  bool returned_ = false;
  frame *resumer_ = nullptr;
  await_scope *active_scope_ = nullptr; // the hook whose wait is running
  // The IR engine's open wait (coroscope_ir_suspend): its site's statistics.
  detail::site_stats *ir_wait_stats_ = nullptr;
  // The co_yield of the full-expression that last suspended, if it has
  // one: in `co_yield co_await x` the await's hook takes over the yield's,
  // and the frame is still a generator parked at a yield.
  std::atomic<const site *> expression_yield_{nullptr};
  frame *prev_ = nullptr, *next_ = nullptr;
  // A reader outside the process trusts a record only while this holds
  // detail::record_check() of its id, address and name version: set once
  // its fields are, cleared before it ends or is renamed.
  std::atomic<std::uint64_t> check_{0};
  std::uint32_t name_version_ = 0;
  std::uint32_t shard_ = 0;
  detail::failure_record *failure_ = nullptr;
  // The locks it holds (locks.hpp), while it holds any; published for
  // readers outside the process (debug_layout.hpp).
  detail::held_locks *held_ = nullptr;
  // The async mutex its suspension waits for (locks.hpp), or null.
  std::atomic<const void *> waiting_lock_{nullptr};
  char name_[48] = {};
};

// The temporary that brackets one co_await/co_yield. It lives until the end
// of the full-expression, so it is destroyed when the coroutine resumes.
// A full-expression may hold several (`co_await a + co_await b`,
// `co_yield co_await x`): each new one ends the wait of the one before,
// which then does nothing when destroyed, so suspensions and resumptions
// alternate and a frame never becomes its own resumer.
class await_scope {
public:
  await_scope(frame &f, const site *at) noexcept : at_(at) {
    if (!f.tracked()) [[unlikely]]
      return;
    bool yield = at->kind == site_kind::yield || at->kind == site_kind::last_yield;
    if (f.active_scope_ != nullptr) [[unlikely]] {
      f.active_scope_->hand_over();
      if (yield)
        f.expression_yield_.store(at, std::memory_order_relaxed);
    } else {
      f.expression_yield_.store(yield ? at : nullptr, std::memory_order_relaxed);
    }
    frame_ = &f;
    stats_ = f.suspend(at);
    f.active_scope_ = this;
  }
  ~await_scope() {
    if (frame_ != nullptr) {
      frame_->active_scope_ = nullptr;
      frame_->resume(at_, stats_);
    }
  }
  await_scope(const await_scope &) = delete;
  await_scope &operator=(const await_scope &) = delete;

private:
  // A later hook of the same full-expression takes over: this wait ends.
  void hand_over() noexcept {
    frame_->resume(at_, stats_);
    frame_ = nullptr;
  }

  frame *frame_ = nullptr;
  const site *at_;
  detail::site_stats *stats_ = nullptr;
};

// `(::coroscope::creating(frame, &site), f(args))`: `f(args)` creates a
// coroutine here. Runs once per creation call, not per await.
inline void creating(frame &f, const site *at) noexcept {
  if (!f.tracked()) [[unlikely]]
    return;
  detail::thread_state &thread = *detail::this_thread();
  thread.creation_by = f.id();
  thread.creation_body = f.body_;
  thread.creation_at = at;
  thread.creation_step = f.suspensions_.load(std::memory_order_relaxed);
  thread.creation_in_await = f.current_state() == state::suspended;
}

// `co_await ((void)::coroscope::await_point(frame, &site), X)`: the operand
// keeps its type and value category, so a promise's await_transform still
// sees the user's type; `(await_point(frame, &site), co_await X)` where X
// may be an awaiter lvalue, and for co_yield.
inline await_scope await_point(frame &f, const site *at) noexcept { return await_scope(f, at); }

// --- Manual API --------------------------------------------------------------

// Prints every live coroutine as a tree, like `asyncio pstree`.
void dump_async_stacks(std::ostream &out);
// Writes the JSON report atomically; false (and a one-line error on stderr)
// when the file cannot be written.
bool write_report(const std::string &path);
// Writes the trace-event JSON atomically.
bool write_trace(const std::string &path);
// Prints the human summary.
void print_summary(std::ostream &out);
// Names the tracked coroutine running on this thread, if any.
void name_current(std::string_view name) noexcept;
// The tracked coroutine running on this thread, or null.
inline frame *current() noexcept {
  return detail::t_state != nullptr ? detail::t_state->current : nullptr;
}
// Says that the running coroutine's next suspension waits for the coroutine
// `id` (frame::id()): an event only that one sets, a shared task it runs.
// The runtime cannot see such waits by itself; `coroscope pstree` draws
// them, and a cycle of waits is a deadlock. Nothing runs per await for it.
inline void waiting_for(std::uint64_t id) noexcept {
  if (frame *f = current()) {
    f->waits_on_suspension_.store(f->suspensions_.load(std::memory_order_relaxed),
                                  std::memory_order_relaxed);
    f->waits_on_.store(id, std::memory_order_relaxed);
  }
}

} // namespace coroscope

#include "locks.hpp"

// Called by the compiler plugin's IR pass on the path that destroys a
// coroutine at its initial suspend point, before its body ran: a lazy task
// that was never awaited (`body` is the body's site). Weak, like the entry
// points above: the pass calls it only when it is linked.
extern "C" COROSCOPE_ENTRY void coroscope_never_started(const coroscope::site *body) noexcept;

// Called by the plugin's IR pass with an instrumented coroutine's frame: in
// its ramp, where it is created (the runtime keeps who created it, and
// where), and in its body right before the tracking object is made (which
// then takes that record).
extern "C" COROSCOPE_ENTRY void coroscope_coroutine_created(const void *coroutine_frame) noexcept;
extern "C" COROSCOPE_ENTRY void coroscope_coroutine_starting(const void *coroutine_frame) noexcept;

// Hand instrumentation. In a coroutine body:
//   COROSCOPE_CORO();                       first statement
//   COROSCOPE_TRY { ...body... } COROSCOPE_CATCH   optional: records exceptions
//   auto v = COROSCOPE_AWAIT(expr);         instead of co_await expr
//   auto v = COROSCOPE_AWAIT_CHILD(f());    co_await of a child coroutine whose
//                                           type has no nested promise_type
//   COROSCOPE_AWAIT_SCHEDULE(pool.schedule());  co_await of a turn on an executor
//   COROSCOPE_AWAIT_TIMER(timer.wait(1s));  co_await of a delay the program asks for
//   auto t = COROSCOPE_CREATE(f());          a call that creates a coroutine
//                                           (its creation site)
//   COROSCOPE_YIELD(expr);                  instead of co_yield expr
//   COROSCOPE_RETURN(expr);                 instead of co_return expr;
//   COROSCOPE_RETURN();                     at the end of a body that falls off
#define COROSCOPE_SITE_(kind_, waits_)                                                     \
  ([]() noexcept -> const ::coroscope::site * {                                            \
    static constexpr ::coroscope::site coroscope_site_{                                    \
        coroscope_function_, coroscope_file_, __LINE__, 0, ::coroscope::site_kind::kind_,   \
        waits_};                                                                           \
    return &coroscope_site_;                                                               \
  }())

#define COROSCOPE_CORO()                                                                   \
  static constexpr const char *coroscope_file_ = __FILE__;                                \
  static constexpr const char *coroscope_function_ = __func__;                            \
  static constexpr ::coroscope::site coroscope_body_site_{                                \
      coroscope_function_, coroscope_file_, __LINE__, 0, ::coroscope::site_kind::body};         \
  ::coroscope::frame coroscope_frame_ { &coroscope_body_site_ }

// The hook goes on the operand, `co_await ((void)hook, X)`: the operand
// keeps its type and value category, and g++ 12 copies a class object's
// bytes when a declaration is initialized from `(hook, co_await X)`.
#define COROSCOPE_AWAIT(...)                                                               \
  co_await((void)::coroscope::await_point(                                                 \
               coroscope_frame_,                                                           \
               COROSCOPE_SITE_(await, ::coroscope::is_task_v<decltype((__VA_ARGS__))>      \
                                          ? ::coroscope::awaits::child                     \
                                          : ::coroscope::awaits::event)),                  \
           __VA_ARGS__)
#define COROSCOPE_AWAIT_CHILD(...)                                                         \
  co_await((void)::coroscope::await_point(coroscope_frame_,                                \
                                          COROSCOPE_SITE_(await, ::coroscope::awaits::child)), \
           __VA_ARGS__)
#define COROSCOPE_AWAIT_SCHEDULE(...)                                                      \
  co_await((void)::coroscope::await_point(                                                 \
               coroscope_frame_, COROSCOPE_SITE_(await, ::coroscope::awaits::schedule)),   \
           __VA_ARGS__)
#define COROSCOPE_AWAIT_TIMER(...)                                                         \
  co_await((void)::coroscope::await_point(                                                 \
               coroscope_frame_, COROSCOPE_SITE_(await, ::coroscope::awaits::timer)),      \
           __VA_ARGS__)
#define COROSCOPE_CREATE(...)                                                              \
  (::coroscope::creating(coroscope_frame_,                                                 \
                         COROSCOPE_SITE_(creation, ::coroscope::awaits::event)),           \
   __VA_ARGS__)
#define COROSCOPE_YIELD(...)                                                               \
  (::coroscope::await_point(coroscope_frame_,                                              \
                            COROSCOPE_SITE_(yield, ::coroscope::awaits::event)),           \
   co_yield __VA_ARGS__)
#define COROSCOPE_RETURN(...)                                                              \
  do {                                                                                     \
    coroscope_frame_.returning();                                                          \
    co_return __VA_ARGS__;                                                                 \
  } while (0)
#define COROSCOPE_NAME(name) coroscope_frame_.set_name(name)

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define COROSCOPE_HAS_EXCEPTIONS 1
#define COROSCOPE_TRY try
#define COROSCOPE_CATCH                                                                    \
  catch (...) {                                                                            \
    coroscope_frame_.fail();                                                               \
    throw;                                                                                 \
  }
#else
#define COROSCOPE_HAS_EXCEPTIONS 0
#define COROSCOPE_TRY
#define COROSCOPE_CATCH
#endif

// What `coroscope instrument` and the compiler plugin emit (the contract in
// docs/runtime/README.md). Each use is on one line, so no original token
// moves:
//   {COROSCOPE_I_BODY("src/a.cpp", "f", 12, 6,
//                     COROSCOPE_I_SITE(await, 14, 13, child),
//                     COROSCOPE_I_SITE(yield, 15, 5, event),
//                     COROSCOPE_I_SITE(creation, 16, 11, event)) COROSCOPE_TRY {
//    ... co_await ((void)COROSCOPE_I_AT(1), X) ... (COROSCOPE_I_AT(2), co_yield Y)
//    ... (COROSCOPE_I_CREATE(3), spawn(f(x))) ...
//    COROSCOPE_I_RETURN co_return Z;
//    COROSCOPE_I_END } COROSCOPE_CATCH}
// The last argument of a site is what it waits for (coroscope::awaits).
// The sites are one static array per coroutine (element 0 is the body), not
// lambdas: a lambda temporary would live in the coroutine frame, and g++
// warns about frame fields of types without linkage. A suspension written in
// a project macro's definition serves every expansion, so it takes its site
// from __LINE__ instead, and its operand is unknown there:
// (COROSCOPE_I_AWAIT_HERE(child), co_await X). That form, the hook before the
// keyword, is also the one for co_yield and for an operand that may be an
// awaiter named as an lvalue (docs/tools/instrument.md).
// Sites name the file as the compiler was given it, so a rewritten copy
// built elsewhere (`--out-dir`) reports the original's name.
// A nested coroutine lambda redeclares these names on purpose.
#define COROSCOPE_I_SITE(kind_, line_, column_, waits_)                                    \
  ::coroscope::site {                                                                      \
    coroscope_function_, coroscope_file_, line_, column_, ::coroscope::site_kind::kind_,   \
        ::coroscope::awaits::waits_                                                        \
  }
#define COROSCOPE_I_BODY(file_, function_, line_, column_, ...)                            \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wshadow\"")             \
  [[maybe_unused]] static constexpr const char *coroscope_file_ = file_;                  \
  [[maybe_unused]] static constexpr const char *coroscope_function_ = function_;          \
  static constexpr ::coroscope::site coroscope_sites_[] = {                               \
      ::coroscope::site{function_, file_, line_, column_, ::coroscope::site_kind::body,     \
                        ::coroscope::awaits::event, COROSCOPE_HAS_EXCEPTIONS != 0},        \
      __VA_ARGS__};                                                                        \
  ::coroscope::frame coroscope_frame_{&coroscope_sites_[0]};                               \
  _Pragma("GCC diagnostic pop")
#define COROSCOPE_I_AT(index_) ::coroscope::await_point(coroscope_frame_, &coroscope_sites_[index_])
#define COROSCOPE_I_CREATE(index_) ::coroscope::creating(coroscope_frame_, &coroscope_sites_[index_])
#define COROSCOPE_I_AWAIT_HERE(waits_)                                                     \
  ::coroscope::await_point(coroscope_frame_, COROSCOPE_SITE_(await, ::coroscope::awaits::waits_))
#define COROSCOPE_I_YIELD_HERE()                                                           \
  ::coroscope::await_point(coroscope_frame_, COROSCOPE_SITE_(yield, ::coroscope::awaits::event))
// A statement prefix: `if (c) COROSCOPE_I_RETURN co_return x;` stays one
// statement, and unlike an `if`/`else` prefix it draws no dangling-else warning.
#define COROSCOPE_I_RETURN                                                                 \
  switch (coroscope_frame_.returning(), 0)                                                 \
  default:
#define COROSCOPE_I_END coroscope_frame_.returning();
