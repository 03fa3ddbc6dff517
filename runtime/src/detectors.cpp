// The detectors: slow steps and long waits seen when they end, and the
// watchdog, which reports stalls and hangs while they last and serves the
// SIGUSR1 async-stack dump. Long waits are kept per site: a hang at an
// event site, queueing at a schedule site; a wait at a child site is the
// child's and is reported there, and a wait at a timer site, or inside a
// child awaited there, is the delay the program asked for.
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unordered_map>
#include <unordered_set>

namespace coroscope::detail {

std::atomic<bool> g_dump_requested{false};

bool waits_for_its_child(const frame &f, const site *at, bool resuming) {
  if (at == nullptr || at->waits_for != awaits::child)
    return false;
  std::uint64_t key = adoption_key(f.id_, f.suspensions_.load(std::memory_order_relaxed));
  // Resumed by its child as that one ended (a task's continuation).
  if (resuming && this_thread()->ended_child_of == key)
    return true;
  return rt().adopted[f.id_ % runtime::kAdoptedSlots].load(std::memory_order_relaxed) == key;
}

const char *waits_for_name(awaits a) {
  const char *name = awaits_name(a);
  return name != nullptr ? name : "event";
}

namespace {

// The watchdog's mark for a long wait at a child site that a live child of
// the waiter explains: seen, and not counted.
constexpr std::uint64_t kExplainedMark = std::uint64_t(1) << 63;

// The watchdog's marks: a step it reported as a stall, a wait it counted.
std::uint64_t stall_mark(std::uint64_t suspensions) { return 2 * suspensions + 1; }
std::uint64_t counted_mark(std::uint64_t suspensions) { return 2 * suspensions + 2; }

void signal_handler(int) { g_dump_requested.store(true, std::memory_order_relaxed); }

enum class long_wait_kind { none, hang, queued };

// Awaited at a timer site (libcoro's yield_for is a coroutine): its waits
// make up the delay its parent asked for.
bool inside_a_delay(const frame &f) {
  return f.awaited_ && f.start_site_ != nullptr && f.start_site_->waits_for == awaits::timer_task;
}

// A generator parked at co_yield waits for its consumer, which is the
// consumer's business; a coroutine that started a child waits for it.
long_wait_kind classify(const frame &f, const site *at, bool resuming) {
  if (at == nullptr || is_yield(at) || is_yield(waiting_at(f)) ||
      at->waits_for == awaits::timer || at->waits_for == awaits::timer_task ||
      inside_a_delay(f) || waits_for_its_child(f, at, resuming))
    return long_wait_kind::none;
  return at->waits_for == awaits::schedule ? long_wait_kind::queued : long_wait_kind::hang;
}

// One long wait of `who` at `at`. `counted`: the watchdog already counted
// this wait while it lasted. `describe` gives the waiter's record, with its
// chain; it is called without locks held, and only for a new worst.
struct long_wait {
  long_wait_kind kind;
  const site *at;
  const site *body;
  std::uint64_t waited_ns;
  double began_ms;
  bool resolved, counted;
};

template <typename Describe> void note_long_wait(const long_wait &w, Describe describe) {
  runtime &r = rt();
  if (w.kind == long_wait_kind::hang)
    trace_trigger("hang");
  auto &sites = w.kind == long_wait_kind::hang ? r.hangs : r.queued;
  auto &total = w.kind == long_wait_kind::hang ? r.hang_total : r.queued_total;
  bool first = false, worse = false;
  {
    std::lock_guard guard(r.records_lock);
    auto found = sites.find(w.at);
    if (found == sites.end()) {
      if (sites.size() >= r.cfg.max_records) {
        r.drop_hangs.fetch_add(1, std::memory_order_relaxed);
        if (!w.counted)
          total.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      found = sites.emplace(w.at, report::long_waits{}).first;
      found->second.site = location_of(w.at, w.body);
      found->second.waits_for = waits_for_name(w.at->waits_for);
      found->second.first_at_ms = w.began_ms;
      first = true;
    }
    report::long_waits &entry = found->second;
    if (!w.counted) {
      ++entry.count;
      total.fetch_add(1, std::memory_order_relaxed);
    }
    if (w.resolved)
      ++entry.resolved;
    entry.first_at_ms = std::min(entry.first_at_ms, w.began_ms);
    // A chain is read from the whole registry: only for a clearly new worst.
    worse = w.waited_ns > entry.worst_ns + entry.worst_ns / 8;
    entry.worst_ns = std::max(entry.worst_ns, w.waited_ns);
  }
  if (!worse)
    return;
  report::coroutine who = describe();
  who.parents = parent_chain(who.parent);
  if (first) {
    std::string text = std::string("coroscope: ") +
                       (w.kind == long_wait_kind::hang ? "hang: '" : "queued: '") +
                       report::display_name(who) +
                       "' (coroutine #" + std::to_string(who.id) + ") " +
                       (w.kind == long_wait_kind::hang ? "suspended for "
                                                       : "waited for a turn on an executor for ") +
                       format_ms(double(w.waited_ns) / 1e6) + " at " + who.site.where();
    if (w.kind == long_wait_kind::hang) {
      text += "\n  #0 " + chain_entry(who);
      for (std::size_t i = 0; i < who.parents.size(); ++i)
        text += "\n  #" + std::to_string(i + 1) + " " + who.parents[i];
      if (!who.created_at.file.empty())
        text += "\n  created at " + who.created_at.where() + " by '" + who.created_at.function +
                "'" + (who.creator != 0 ? " (coroutine #" + std::to_string(who.creator) + ")" : "");
    }
    log_line(text);
  }
  std::lock_guard guard(r.records_lock);
  auto found = sites.find(w.at);
  if (found != sites.end() && w.waited_ns >= found->second.worst_ns) {
    found->second.worst = std::move(who);
    found->second.worst.in_state_ns = w.waited_ns;
  }
}

void watchdog_scan() {
  runtime &r = rt();
  refine_clock();
  std::int64_t now = now_ticks();
  std::int64_t slow = g_slow_ticks.load(std::memory_order_relaxed);
  std::int64_t hang = g_hang_ticks.load(std::memory_order_relaxed);
  struct finding {
    report::coroutine who;
    const site *at;
    const site *body;
    long_wait_kind kind; // none: a stall
  };
  std::vector<finding> findings;
  // Long waits at child sites without a child known to have started there:
  // id -> suspension count. They are the child's if a live coroutine has
  // the waiter for its parent (a child it started before awaiting it, or one
  // whose adoption another waiter's overwrote in the hashed table).
  std::unordered_map<std::uint64_t, std::uint32_t> at_child_site;
  bool someone_waits_long = false; // then look for deadlocks
  auto report_long_wait = [&](frame &f, long_wait_kind kind, std::uint32_t k) {
    f.watchdog_mark_.store(counted_mark(k));
    findings.push_back({describe(f, now), f.site_.load(std::memory_order_relaxed), f.body_, kind});
  };
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_) {
      if (inherited_from_parent(*f))
        continue;
      auto st = static_cast<state>(f->state_.load(std::memory_order_relaxed));
      std::int64_t since = f->since_.load(std::memory_order_relaxed);
      std::uint32_t k = f->suspensions_.load(std::memory_order_relaxed);
      const site *at = f->site_.load(std::memory_order_relaxed);
      std::int64_t own = now - since - f->nested_ticks_.load(std::memory_order_relaxed);
      std::uint64_t mark = f->watchdog_mark_.load();
      if (st == state::running && own > slow && mark != stall_mark(k)) {
        f->watchdog_mark_.store(stall_mark(k));
        findings.push_back({describe(*f, now), at, f->body_, long_wait_kind::none});
      }
      if (st == state::suspended && now - since > hang)
        someone_waits_long = true;
      if (st == state::suspended && now - since > hang && mark != counted_mark(k) &&
                 mark != (counted_mark(k) | kExplainedMark)) {
        long_wait_kind kind = classify(*f, at, false);
        if (kind == long_wait_kind::none)
          continue;
        if (at->waits_for == awaits::child)
          at_child_site.emplace(f->id_, k);
        else
          report_long_wait(*f, kind, k);
      }
    }
  }
  if (!at_child_site.empty()) {
    std::unordered_set<std::uint64_t> with_live_child;
    for (shard &s : r.shards) {
      std::lock_guard guard(s.lock);
      for (frame *f = s.head; f != nullptr; f = f->next_)
        if (at_child_site.contains(f->parent_id_) && !inherited_from_parent(*f))
          with_live_child.insert(f->parent_id_);
    }
    for (shard &s : r.shards) {
      std::lock_guard guard(s.lock);
      for (frame *f = s.head; f != nullptr; f = f->next_) {
        auto found = at_child_site.find(f->id_);
        std::uint32_t k = f->suspensions_.load(std::memory_order_relaxed);
        if (found == at_child_site.end() || found->second != k ||
            static_cast<state>(f->state_.load(std::memory_order_relaxed)) != state::suspended)
          continue;
        if (with_live_child.contains(f->id_))
          f->watchdog_mark_.store(counted_mark(k) | kExplainedMark);
        else
          report_long_wait(*f, long_wait_kind::hang, k);
      }
    }
  }
  if (someone_waits_long || thread_blocked_in_lock(now, hang))
    note_deadlocks(now, hang);
  for (finding &found : findings) {
    report::coroutine &c = found.who;
    if (found.kind != long_wait_kind::none) {
      long_wait w{found.kind, found.at, found.body, c.in_state_ns,
                  ticks_to_ms_since_start(now) - double(c.in_state_ns) / 1e6,
                  false, false};
      note_long_wait(w, [&] { return c; });
      continue;
    }
    std::string who = "'" + report::display_name(c) +
                      "' (coroutine #" + std::to_string(c.id) + ")";
    report::slow_step step;
    step.coroutine = c.id;
    step.name = c.name;
    step.from = c.site;
    step.duration_ns = c.in_state_ns;
    step.at_ms = double(c.age_ns) / 1e6;
    step.in_progress = true;
    // The line before the record: whoever sees the record has the line.
    log_line("coroscope: stall: " + who + " has run " + format_ms(double(c.in_state_ns) / 1e6) +
             " without suspending, since " + c.site.where());
    r.slow_total.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard guard(r.records_lock);
    push_bounded(r.slow_steps, step, r.drop_slow);
  }
}

void watchdog_main() {
  runtime &r = rt();
  double period_ms = std::clamp(std::min(r.cfg.slow_ms, r.cfg.hang_ms) / 4, 1.0, 100.0);
  std::unique_lock lock(r.watchdog_lock);
  std::int64_t next_system_sample = 0;
  while (!r.watchdog_stop) {
    r.watchdog_wake.wait_for(lock, std::chrono::microseconds(std::int64_t(period_ms * 1000)));
    if (r.watchdog_stop)
      break;
    lock.unlock();
    try {
      if (g_dump_requested.exchange(false)) {
        dump_async_stacks(std::cerr);
        trace_trigger("SIGUSR1");
      }
      std::int64_t now = now_ticks();
      r.heartbeat_ticks.store(now, std::memory_order_relaxed);
      watchdog_scan();
      if (now >= next_system_sample) {
        note_system_sample();
        next_system_sample = now + ms_to_ticks(1000);
      }
    } catch (...) {
    }
    lock.lock();
  }
}

} // namespace

void install_dump_signal() {
  struct sigaction action {};
  action.sa_handler = signal_handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
}

void on_slow_step(frame &f, const site *to, std::int64_t begin, std::int64_t end) noexcept {
  runtime &r = rt();
  try {
    r.slow_total.fetch_add(1, std::memory_order_relaxed);
    stats_for(*this_thread(), f.body_)->slow_steps.add(1);
    report::slow_step step;
    step.coroutine = f.id_;
    step.name = frame_name(f);
    step.from = location_of(f.site_.load(std::memory_order_relaxed), f.body_);
    step.to = location_of(to, f.body_);
    step.thread = this_thread()->index;
    // The step's own time, without the coroutines it resumed.
    step.duration_ns = ticks_to_ns(end - begin - f.nested_ticks_.load(std::memory_order_relaxed));
    step.at_ms = ticks_to_ms_since_start(begin);
    bool seen_running = f.watchdog_mark_.load() ==
                        stall_mark(f.suspensions_.load(std::memory_order_relaxed));
    {
      std::lock_guard guard(r.records_lock);
      bool updated = false;
      if (seen_running)
        for (auto it = r.slow_steps.rbegin(); it != r.slow_steps.rend(); ++it)
          if (it->coroutine == f.id_ && it->in_progress) {
            *it = step;
            updated = true;
            r.slow_total.fetch_sub(1, std::memory_order_relaxed);
            break;
          }
      if (!updated)
        push_bounded(r.slow_steps, step, r.drop_slow);
    }
    log_line("coroscope: slow step: '" + display_name(f) + "' (coroutine #" +
             std::to_string(f.id_) + ") ran " + format_ms(double(step.duration_ns) / 1e6) +
             " without suspending, from " +
             (f.site_.load()->kind == site_kind::body ? "its start" : step.from.where()) + " to " +
             (to->kind == site_kind::body ? "its end" : step.to.where()) +
             ", on thread " + std::to_string(step.thread));
  } catch (...) {
  }
}

void on_long_wait(frame &f, const site *at, std::int64_t begin, std::int64_t end) noexcept {
  try {
    std::uint64_t mark = f.watchdog_mark_.load();
    std::uint64_t seen = counted_mark(f.suspensions_.load(std::memory_order_relaxed));
    long_wait_kind kind = classify(f, at, true);
    if (kind == long_wait_kind::none || mark == (seen | kExplainedMark))
      return;
    bool counted = mark == seen;
    long_wait w{kind, at, f.body_, ticks_to_ns(end - begin), ticks_to_ms_since_start(begin),
                true, counted};
    note_long_wait(w, [&] {
      std::lock_guard guard(rt().shards[f.shard_].lock);
      report::coroutine c = describe(f, end);
      c.site = location_of(at, f.body_);
      c.state = "suspended";
      return c;
    });
  } catch (...) {
  }
}

void start_watchdog() {
  runtime &r = rt();
  std::lock_guard guard(r.watchdog_lock);
  if (r.watchdog.joinable())
    return;
  r.watchdog_stop = false;
  try {
    r.watchdog = std::thread(watchdog_main);
  } catch (...) {
    std::fprintf(stderr, "coroscope: warning: cannot start the watchdog thread\n");
  }
}

void stop_watchdog() {
  runtime &r = rt();
  std::thread stopping;
  {
    std::lock_guard guard(r.watchdog_lock);
    r.watchdog_stop = true;
    stopping = std::move(r.watchdog);
  }
  r.watchdog_wake.notify_all();
  if (stopping.joinable() && stopping.get_id() != std::this_thread::get_id())
    stopping.join();
}

} // namespace coroscope::detail
