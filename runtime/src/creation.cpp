// Creation sites and spawn parents: who created each coroutine, and with
// which call. The source hooks mark creation calls (creating()); the
// plugin's IR pass reports each coroutine's ramp, where it is created, and
// the start of its body, which may come much later or on another thread.
#include "tracker.hpp"

namespace coroscope::detail {
namespace {

std::size_t creation_slot(const void *key) {
  return (reinterpret_cast<std::uintptr_t>(key) >> 4) * 0x9E3779B97F4A7C15ull >> 51;
}

// Who is creating a coroutine on this thread now, and where: the creation
// call the creator just marked, if that creator is the one running or the
// one that just suspended to await (`co_await when_all(f(), g())`), in the
// same step; else the awaiter and its await site; else the running one.
struct creation_info {
  std::uint64_t creator = 0;
  const site *creator_body = nullptr, *at = nullptr;
};

creation_info creation_now(thread_state &thread) {
  creation_info info;
  const frame *running = thread.current;
  // A call marked before the creator suspended is not what its await starts
  // (`auto t = f(); co_await g();`); one inside the await's operand is.
  bool marked =
      thread.creation_at != nullptr &&
      (thread.pending_awaiter != 0
           ? thread.creation_in_await && thread.creation_by == thread.pending_awaiter &&
                 thread.creation_step == thread.pending_suspensions
           : !thread.creation_in_await && running != nullptr &&
                 thread.creation_by == running->id_ &&
                 thread.creation_step == running->suspensions_.load(std::memory_order_relaxed));
  if (marked) {
    info = {thread.creation_by, thread.creation_body, thread.creation_at};
    thread.creation_at = nullptr;
  } else if (thread.pending_awaiter != 0) {
    info = {thread.pending_awaiter, thread.pending_body, thread.pending_site};
  } else if (running != nullptr) {
    info = {running->id_, running->body_, running->site_.load(std::memory_order_relaxed)};
  }
  return info;
}

} // namespace

void record_ramp_creation(ramp_creation &into) {
  creation_info info = creation_now(*this_thread());
  into = {1, info.creator, info.creator_body, info.at};
}

void record_creator(frame &f, thread_state &thread) {
  if (const auto *ramp = static_cast<const ramp_creation *>(thread.starting_ramp)) {
    thread.starting_ramp = nullptr;
    if (ramp->recorded == 1) {
      f.creator_id_ = ramp->creator;
      f.creator_body_ = ramp->creator_body;
      f.creation_site_ = ramp->at;
      return;
    }
  }
  runtime &r = rt();
  const void *coroutine_frame = thread.starting_frame;
  thread.starting_frame = nullptr;
  if (coroutine_frame != nullptr && r.creations_seen.load(std::memory_order_relaxed)) {
    std::size_t slot = creation_slot(coroutine_frame);
    std::lock_guard guard(r.creation_locks[slot % runtime::kCreationLocks]);
    runtime::creation_record &c = r.creations[slot];
    if (c.key == coroutine_frame) {
      f.creator_id_ = c.creator;
      f.creator_body_ = c.creator_body;
      f.creation_site_ = c.at;
      c.key = nullptr;
      return;
    }
  }
  // Not reported by its ramp: who is creating one here now, which is right
  // when it starts where it is created.
  creation_info info = creation_now(thread);
  f.creator_id_ = info.creator;
  f.creator_body_ = info.creator_body;
  f.creation_site_ = info.at;
}

} // namespace coroscope::detail

void coroscope_coroutine_created(const void *coroutine_frame) noexcept {
  using namespace coroscope::detail;
  if (coroutine_frame == nullptr || !tracking())
    return;
  runtime &r = rt();
  creation_info info = creation_now(*this_thread());
  std::size_t slot = creation_slot(coroutine_frame);
  std::lock_guard guard(r.creation_locks[slot % runtime::kCreationLocks]);
  r.creations[slot] = {coroutine_frame, info.creator, info.creator_body, info.at};
  r.creations_seen.store(true, std::memory_order_relaxed);
}

void coroscope_coroutine_starting(const void *coroutine_frame) noexcept {
  using namespace coroscope::detail;
  if (coroutine_frame != nullptr && tracking())
    this_thread()->starting_frame = coroutine_frame;
}

