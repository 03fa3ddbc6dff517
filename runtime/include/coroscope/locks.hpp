// Run-time lock tracking: what instrumented code (or a user, by hand) calls
// when it takes and releases a lock. Locks are held per coroutine, not per
// thread: the set moves with a coroutine across suspensions and threads.
// Lock classes are named as coro-lock-order-inversion names them
// (`Class::member_`, `ns::global`, `function::static`), so run-time and
// static orders are one graph (docs/runtime/locks.md).
//
// Included by coroscope.hpp; not a header of its own to include.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>

namespace coroscope {

// What releasing a lock on another thread means: undefined behaviour for a
// thread-owned mutex (std::mutex, pthread), normal for a coroutine mutex.
enum class lock_kind : std::uint8_t { mutex, shared, async };

constexpr const char *lock_kind_name(lock_kind k) noexcept {
  switch (k) {
  case lock_kind::mutex: return "mutex";
  case lock_kind::shared: return "shared";
  case lock_kind::async: return "async";
  }
  return nullptr;
}

// Where a lock is taken or released; a compile-time constant, identified by
// its address like coroscope::site.
struct lock_site {
  const char *lock_class;
  const char *function;
  const char *file;
  std::uint32_t line;
  std::uint32_t column;
  lock_kind kind = lock_kind::mutex;
};

namespace detail {

inline constexpr int kMaxHeldLocks = 16;

struct held_lock {
  const void *mutex;
  const lock_site *at;
  std::int64_t since;     // acquired, in ticks
  std::uint64_t chain;    // the held classes up to this one, hashed
  std::uint32_t thread;   // acquired on
  std::uint32_t suspensions; // its coroutine's suspensions when acquired
  std::uint16_t lock_class;
  bool timed; // `since` was read: its hold is measured
};

// The locks a coroutine (or a thread, outside coroutines) holds, in
// acquisition order. Read by the watchdog and outside readers only through
// the atomics of the runtime's own records (locks.cpp).
struct held_locks {
  std::uint32_t depth = 0;
  held_lock entries[kMaxHeldLocks];
  held_locks *next_spare = nullptr;
};

// Who holds a lock instance: a direct-mapped table by address, which the
// runtime defines. A collision forgets the older holder, which only hides
// a contention or a wait-for edge.
struct lock_owner {
  std::atomic<const void *> mutex{nullptr};
  std::atomic<std::uint64_t> coroutine{0}; // 0: held outside coroutines
  std::atomic<std::uint32_t> thread{0};
  std::atomic<const lock_site *> at{nullptr};
};
inline constexpr int kOwnerSlotBits = 12;
inline constexpr std::size_t kOwnerSlots = std::size_t{1} << kOwnerSlotBits;
extern COROSCOPE_ENTRY lock_owner g_lock_owners[kOwnerSlots];

inline lock_owner &owner_slot(const void *mutex) noexcept {
  auto slot = (reinterpret_cast<std::uintptr_t>(mutex) >> 4) * 0x9E3779B97F4A7C15ull;
  return g_lock_owners[slot >> (64 - kOwnerSlotBits)];
}

// Returned by lock_waiting() and given back to lock_acquired().
struct lock_wait_token {
  std::int64_t since = 0;
  bool waited = false; // since is the wait's start
  bool contended = false;
};

COROSCOPE_ENTRY lock_wait_token lock_waiting(const void *mutex, const lock_site *at) noexcept;
COROSCOPE_ENTRY void lock_acquired(const void *mutex, const lock_site *at,
                                   lock_wait_token wait) noexcept;
// `holder`: the coroutine that took the lock, when the caller knows it (a
// guard destroyed with its frame while the coroutine is suspended, when
// another one runs); else the running coroutine's set and its thread's.
COROSCOPE_ENTRY void lock_released(const void *mutex, const lock_site *at,
                                   frame *holder = nullptr) noexcept;

} // namespace detail

// The low-level hooks. A blocking acquisition is bracketed by
// lock_waiting() (before) and lock_acquired() (after); a lock taken without
// waiting (a successful try_lock) calls lock_acquired() with a default
// token. `mutex` identifies the lock instance; `at` names its class.
inline detail::lock_wait_token lock_waiting(const void *mutex, const lock_site *at) noexcept {
  // Only a lock someone holds is waited for: the common case stays inline.
  if (!detail::tracking() ||
      detail::owner_slot(mutex).mutex.load(std::memory_order_relaxed) != mutex) [[likely]]
    return {};
  return detail::lock_waiting(mutex, at);
}
inline void lock_acquired(const void *mutex, const lock_site *at,
                          detail::lock_wait_token wait = {}) noexcept {
  if (detail::tracking())
    detail::lock_acquired(mutex, at, wait);
}
inline void lock_released(const void *mutex, const lock_site *at,
                          frame *holder = nullptr) noexcept {
  if (detail::tracking())
    detail::lock_released(mutex, at, holder);
}

// A try_lock's record: \p result is what it returned, true (or pthread's 0)
// when it took the lock.
inline bool lock_tried(const void *mutex, const lock_site *at, bool result) noexcept {
  if (result)
    ::coroscope::lock_acquired(mutex, at);
  return result;
}
inline int lock_tried(const void *mutex, const lock_site *at, int result) noexcept {
  if (result == 0)
    ::coroscope::lock_acquired(mutex, at);
  return result;
}

// A blocking lock() call's bracket inside its full expression,
// `((void)lock_call{&m, at}, m.lock())`: made before the call, it records
// the acquisition when the full expression ends, unless the call threw.
class lock_call {
public:
  lock_call(const void *mutex, const lock_site *at) noexcept
      : mutex_(mutex), at_(at), token_(::coroscope::lock_waiting(mutex, at)),
        exceptions_(std::uncaught_exceptions()) {}
  ~lock_call() {
    if (std::uncaught_exceptions() == exceptions_)
      ::coroscope::lock_acquired(mutex_, at_, token_);
  }
  lock_call(const lock_call &) = delete;
  lock_call &operator=(const lock_call &) = delete;

private:
  const void *mutex_;
  const lock_site *at_;
  detail::lock_wait_token token_;
  int exceptions_;
};

// A guard's bracket, in two objects around the guard's declaration: the
// wait begins before the guard is made, and the hold begins after it and
// ends before the guard releases the lock, so no other holder's
// acquisition can come between the release and its record.
class lock_wait {
public:
  lock_wait(const void *mutex, const lock_site *at) noexcept
      : mutex_(mutex), at_(at), token_(::coroscope::lock_waiting(mutex, at)) {}
  lock_wait(const lock_wait &) = delete;
  lock_wait &operator=(const lock_wait &) = delete;

private:
  friend class lock_hold;
  const void *mutex_;
  const lock_site *at_;
  detail::lock_wait_token token_;
};

class lock_hold {
public:
  explicit lock_hold(const lock_wait &wait) noexcept
      : mutex_(wait.mutex_), at_(wait.at_), holder_(current()) {
    ::coroscope::lock_acquired(mutex_, at_, wait.token_);
  }
  ~lock_hold() { ::coroscope::lock_released(mutex_, at_, holder_); }
  lock_hold(const lock_hold &) = delete;
  lock_hold &operator=(const lock_hold &) = delete;

private:
  const void *mutex_;
  const lock_site *at_;
  frame *holder_; // the coroutine that took it, if any
};

} // namespace coroscope

// Hand instrumentation of locks, anywhere (in a coroutine or not):
//   COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, mu_, "Server::mu_");
//                                 a guard declaration, tracked for its scope
//   COROSCOPE_LOCKED(mu_, "Server::mu_");    after mu_.lock() or a try_lock
//                                            that succeeded
//   COROSCOPE_UNLOCKING(mu_, "Server::mu_"); before mu_.unlock()
//   COROSCOPE_ASYNC_LOCK_GUARD(g, m_, "Cache::m_", m_.scoped_lock_async());
//                                 in a coroutine body: the co_await of an
//                                 async mutex's scoped lock
// Sites are static constants of the enclosing function, so that __func__
// names it (a lambda's would be operator()).
#define COROSCOPE_LOCK_SITE_DECL_(var, class_name, kind_)                                  \
  static constexpr ::coroscope::lock_site var {                                            \
    class_name, __func__, __FILE__, __LINE__, 0, ::coroscope::lock_kind::kind_             \
  }
#define COROSCOPE_LOCK_GUARD(guard_type, name, lockable, class_name)                       \
  COROSCOPE_LOCK_SITE_DECL_(coroscope_lock_site_##name, class_name, mutex);                \
  ::coroscope::lock_wait coroscope_wait_##name{&(lockable), &coroscope_lock_site_##name};  \
  guard_type name{lockable};                                                               \
  ::coroscope::lock_hold coroscope_hold_##name { coroscope_wait_##name }
#define COROSCOPE_LOCKED(lockable, class_name)                                             \
  do {                                                                                     \
    COROSCOPE_LOCK_SITE_DECL_(coroscope_lock_site_, class_name, mutex);                    \
    ::coroscope::lock_acquired(&(lockable), &coroscope_lock_site_);                        \
  } while (0)
#define COROSCOPE_UNLOCKING(lockable, class_name)                                          \
  do {                                                                                     \
    COROSCOPE_LOCK_SITE_DECL_(coroscope_lock_site_, class_name, mutex);                    \
    ::coroscope::lock_released(&(lockable), &coroscope_lock_site_);                        \
  } while (0)
#define COROSCOPE_ASYNC_LOCK_GUARD(name, lockable, class_name, ...)                        \
  COROSCOPE_LOCK_SITE_DECL_(coroscope_lock_site_##name, class_name, async);                \
  ::coroscope::lock_wait coroscope_wait_##name{&(lockable), &coroscope_lock_site_##name};  \
  auto name = COROSCOPE_AWAIT(__VA_ARGS__);                                                \
  ::coroscope::lock_hold coroscope_hold_##name { coroscope_wait_##name }

// The source engine's forms (rewriter/LockEdits.h): a guard's wait and hold
// around its declaration, and a call's site. The site of a call is a
// lambda's static, as a call may be anywhere in an expression.
#define COROSCOPE_I_LOCK_WAIT(id_, mutex_, class_, function_, file_, line_, column_, kind_)  \
  static constexpr ::coroscope::lock_site coroscope_lock_site_##id_{                       \
      class_, function_, file_, line_, column_, ::coroscope::lock_kind::kind_};            \
  ::coroscope::lock_wait coroscope_lock_wait_##id_{mutex_, &coroscope_lock_site_##id_};
#define COROSCOPE_I_LOCK_HOLD(id_)                                                         \
  ::coroscope::lock_hold coroscope_lock_hold_##id_{coroscope_lock_wait_##id_};
#define COROSCOPE_I_LOCK_SITE(class_, function_, file_, line_, column_, kind_)             \
  ([]() noexcept -> const ::coroscope::lock_site * {                                       \
    static constexpr ::coroscope::lock_site coroscope_lock_site_{                          \
        class_, function_, file_, line_, column_, ::coroscope::lock_kind::kind_};          \
    return &coroscope_lock_site_;                                                          \
  }())
