// The coroutine lifecycle's out-of-line part: a body's start and end, its
// failure and cancellation records, and the parent -> child edges. The
// per-suspension path is inline in coroscope.hpp, and in ir_hooks.cpp.
#include "tracker.hpp"

#include <cxxabi.h>
#include <exception>
#include <new>
#include <typeinfo>

namespace coroscope::detail {

namespace {

// `child_stats` keeps the child's last edge: a body nearly always starts
// from the same parent, and the map lookup costs more than the rest.
void count_edge(thread_record &record, site_stats &child_stats, const site *parent,
                const site *child, bool awaited) {
  runtime &r = rt();
  edge_stats *edge = child_stats.last_edge;
  if (edge != nullptr && edge->parent == parent && edge->awaited == awaited) {
    edge->count.add(1);
    return;
  }
  edge_key key{parent, child, awaited};
  auto found = record.edges.find(key);
  edge = found != record.edges.end() ? found->second : nullptr;
  if (edge == nullptr) {
    if (r.site_blocks.fetch_add(1, std::memory_order_relaxed) >=
        static_cast<std::int64_t>(r.cfg.max_site_blocks)) {
      r.drop_sites.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    edge = new edge_stats;
    edge->parent = parent;
    edge->child = child;
    edge->awaited = awaited;
    record.edges.emplace(key, edge);
    edge->next_in_thread = record.edge_list.load(std::memory_order_relaxed);
    record.edge_list.store(edge, std::memory_order_release);
  }
  child_stats.last_edge = edge;
  edge->count.add(1);
}

// "handle_request at server.cpp:40:7": an entry of a failure's path.
std::string where_it_failed(const frame &f) {
  return display_name(f) + " at " +
         location_of(f.site_.load(std::memory_order_relaxed), f.body_).where();
}

// Keeps the record of a failure that is not the continuation of one that
// ended earlier on this thread; returns its index, or SIZE_MAX.
std::size_t keep_failure(frame &f, std::int64_t now) {
  runtime &r = rt();
  {
    std::lock_guard guard(r.records_lock);
    if (r.failures.size() >= r.cfg.max_records) {
      r.drop_failures.fetch_add(1, std::memory_order_relaxed);
      return SIZE_MAX;
    }
  }
  report::coroutine c;
  {
    std::lock_guard guard(r.shards[f.shard_].lock);
    c = describe(f, now);
  }
  c.state = state_name(static_cast<std::uint8_t>(state::failed));
  if (f.failure_ != nullptr) {
    c.exception_type = f.failure_->type;
    c.exception_what = f.failure_->what;
  } else {
    c.exception_type = "(not captured: the body has no COROSCOPE_CATCH)";
  }
  c.parents = parent_chain(f.parent_id_);
  std::lock_guard guard(r.records_lock);
  if (r.failures.size() >= r.cfg.max_records) {
    r.drop_failures.fetch_add(1, std::memory_order_relaxed);
    return SIZE_MAX;
  }
  r.failures.push_back(std::move(c));
  return r.failures.size() - 1;
}

void keep_cancelled(frame &f, std::int64_t now, state outcome) {
  runtime &r = rt();
  {
    std::lock_guard guard(r.records_lock);
    if (r.cancelled.size() >= r.cfg.max_records) {
      r.drop_cancelled.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  report::coroutine c;
  {
    std::lock_guard guard(r.shards[f.shard_].lock);
    c = describe(f, now);
  }
  c.state = state_name(static_cast<std::uint8_t>(outcome));
  c.parents = parent_chain(f.parent_id_);
  std::lock_guard guard(r.records_lock);
  push_bounded(r.cancelled, std::move(c), r.drop_cancelled);
}

} // namespace

void begin_coroutine(frame &f, const site *body) noexcept {
  thread_state &thread = *this_thread();
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  if (r.restart_pending.load(std::memory_order_relaxed)) [[unlikely]]
    restart_after_fork();
  if (thread.next_id == thread.id_limit) {
    thread.next_id = r.next_id_block.fetch_add(1024, std::memory_order_relaxed) + 1;
    thread.id_limit = thread.next_id + 1024;
  }
  std::int64_t now = now_ticks();
  f.body_ = body;
  f.id_ = thread.next_id++;
  // The parent: the coroutine that just suspended here to await a child,
  // or else the one running on this thread, which spawns this one.
  if (thread.pending_awaiter != 0) {
    f.parent_id_ = thread.pending_awaiter;
    f.parent_body_ = thread.pending_body;
    f.start_site_ = thread.pending_site;
    f.awaited_ = true;
    f.parent_suspensions_ = thread.pending_suspensions;
    r.adopted[thread.pending_awaiter % runtime::kAdoptedSlots].store(
        adoption_key(thread.pending_awaiter, thread.pending_suspensions),
        std::memory_order_relaxed);
  } else if (thread.current != nullptr) {
    f.parent_id_ = thread.current->id_;
    f.parent_body_ = thread.current->body_;
    f.start_site_ = thread.current->site_.load(std::memory_order_relaxed);
  }
  record_creator(f, thread);
  thread.pending_awaiter = 0;
  // A failure that ended on this thread can no longer reach its awaiter
  // through here: something else runs.
  record.last_failure = {};
  site_stats *stats = stats_for(thread, body);
  try {
    if (f.parent_body_ != nullptr)
      count_edge(record, *stats, f.parent_body_, body, f.awaited_);
  } catch (...) {
  }
  f.state_.store(static_cast<std::uint8_t>(state::running), std::memory_order_relaxed);
  f.site_.store(body, std::memory_order_relaxed);
  f.since_.store(now, std::memory_order_relaxed);
  f.start_ticks_ = now;
  f.start_thread_ = f.suspend_thread_ = thread.index;
  // Only read when the body does not record its own exceptions.
  if (!body->records_exceptions)
    f.uncaught_at_start_ = std::uncaught_exceptions();
  f.resumer_ = thread.current;
  thread.current = &f;
  stats->count.add(1);
  f.shard_ = thread.index % kShards;
  shard &s = r.shards[f.shard_];
  std::lock_guard guard(s.lock);
  link_live(f);
  s.recent.add(seconds_since_start(now), 0);
  ++s.fates[fate_started];
}

void end_coroutine(frame &f) noexcept {
  thread_state &thread = *this_thread();
  thread_record &record = *record_of(thread);
  runtime &r = rt();
  if (inherited_from_parent(f)) [[unlikely]] {
    // A forked child ends its parent's coroutine: not the child's to count.
    thread.current = f.resumer_;
    delete f.failure_;
    f.failure_ = nullptr;
    std::lock_guard guard(r.shards[f.shard_].lock);
    unlink_live(f);
    f.body_ = nullptr;
    return;
  }
  std::int64_t now = now_ticks();
  site_stats *stats = stats_for(thread, f.body_);
  // An exception leaving the body is recorded by its handler; without one
  // (hand instrumentation), an exception in flight is the best evidence.
  // An instrumented frame destroyed during another exception's unwinding
  // was only destroyed.
  bool failed = f.failure_ != nullptr ||
                (!f.body_->records_exceptions && std::uncaught_exceptions() > f.uncaught_at_start_);
  const site *at = waiting_at(f);
  bool at_last_yield = at != nullptr && at->kind == site_kind::last_yield;
  state outcome = failed                         ? state::failed
                  : f.returned_ || at_last_yield ? state::finished
                  : is_yield(at)                 ? state::abandoned
                                                 : state::cancelled;
  std::int64_t began = f.since_.load(std::memory_order_relaxed);
  // Destroyed while suspended: it has no last step.
  if (f.returned_ || failed)
    f.end_step(thread, stats, f.body_, began, now, false);
  stats->wait.record(ticks_to_ns(now - f.start_ticks_));
  (outcome == state::finished    ? stats->finished
   : outcome == state::failed    ? stats->failed
   : outcome == state::abandoned ? stats->abandoned
                                 : stats->cancelled)
      .add(1);
  stats->running_ns.add(f.running_ns_.load(std::memory_order_relaxed));
  stats->suspended_ns.add(f.suspended_ns_.load(std::memory_order_relaxed));
  stats->suspensions.add(f.suspensions_.load(std::memory_order_relaxed));
  stats->cross_thread_resumptions.add(f.cross_thread_.load(std::memory_order_relaxed));
  thread.current = f.resumer_;
  thread.pending_awaiter = 0;
  if (f.awaited_)
    thread.ended_child_of = adoption_key(f.parent_id_, f.parent_suspensions_);

  try {
    if (outcome == state::failed) {
      std::exception_ptr exception =
          f.failure_ != nullptr ? f.failure_->exception : std::exception_ptr();
      std::size_t index = SIZE_MAX;
      if (f.failure_ != nullptr && f.failure_->propagated) {
        // The awaited child's failure, rethrown here: one failure, one
        // record, with this frame on its path.
        index = record.last_failure.record;
        if (index != SIZE_MAX) {
          std::string step = where_it_failed(f);
          std::lock_guard guard(r.records_lock);
          if (index < r.failures.size())
            r.failures[index].propagated_to.push_back(std::move(step));
        }
      } else {
        r.failure_total.fetch_add(1, std::memory_order_relaxed);
        index = keep_failure(f, now);
      }
      record.last_failure = {};
      if (f.awaited_ && exception)
        record.last_failure = {f.parent_id_, std::move(exception), index};
    } else {
      if (record.last_failure.awaiter == f.id_)
        record.last_failure = {}; // it caught its child's exception
      if (outcome != state::finished)
        keep_cancelled(f, now, outcome);
    }
  } catch (...) {
  }
  delete f.failure_;
  f.failure_ = nullptr;

  shard &s = r.shards[f.shard_];
  std::lock_guard guard(s.lock);
  unlink_live(f);
  f.state_.store(static_cast<std::uint8_t>(outcome), std::memory_order_relaxed);
  s.recent.add(seconds_since_start(now), outcome == state::finished ? 1
                                         : outcome == state::failed ? 2
                                                                    : 3);
  ++s.fates[outcome == state::finished    ? fate_finished
            : outcome == state::failed    ? fate_failed
            : outcome == state::abandoned ? fate_abandoned
                                          : fate_cancelled];
  f.body_ = nullptr;
}

void record_failure(frame &f) noexcept {
  if (f.failure_ != nullptr)
    return;
  auto *failure = new (std::nothrow) failure_record;
  if (failure == nullptr)
    return;
  try {
    if (const std::type_info *type = abi::__cxa_current_exception_type())
      failure->type = demangle(type->name());
    failure->exception = std::current_exception();
    try {
      throw;
    } catch (const std::exception &e) {
      failure->what = e.what();
    } catch (...) {
    }
    pending_failure &last = record_of(*this_thread())->last_failure;
    failure->propagated =
        last.awaiter == f.id_ && last.exception && last.exception == failure->exception;
  } catch (...) {
  }
  f.failure_ = failure;
  if (!failure->propagated)
    trace_trigger("failure");
}

} // namespace coroscope::detail

void coroscope_never_started(const coroscope::site *body) noexcept {
  using namespace coroscope::detail;
  if (body == nullptr || !tracking())
    return;
  rt().never_started_total.fetch_add(1, std::memory_order_relaxed);
  try {
    stats_for(*this_thread(), body)->never_started.add(1);
    runtime &r = rt();
    {
      std::lock_guard guard(r.records_lock);
      if (!r.never_started_logged.insert(body).second)
        return;
    }
    coroscope::report::location where = location_of(body, body);
    log_line("coroscope: never started: a coroutine of '" + where.function + "' (" + where.where() +
             ") was destroyed before its body ran; a lazy task that is never awaited does nothing");
  } catch (...) {
  }
}

namespace coroscope {

void name_current(std::string_view name) noexcept {
  if (frame *f = current())
    f->set_name(name);
}

} // namespace coroscope
