// The detectors: slow steps and long waits seen when they end, and the
// watchdog, which reports stalls and hangs while they last and serves the
// SIGUSR1 async-stack dump.
#include "tracker.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace coroscope::detail {

std::atomic<bool> g_dump_requested{false};

namespace {

void signal_handler(int) { g_dump_requested.store(true, std::memory_order_relaxed); }

void watchdog_scan() {
  runtime &r = rt();
  refine_clock();
  std::int64_t now = now_ticks();
  std::int64_t slow = g_slow_ticks.load(std::memory_order_relaxed);
  std::int64_t hang = g_hang_ticks.load(std::memory_order_relaxed);
  struct finding {
    report::coroutine who;
    bool stall;
  };
  std::vector<finding> findings;
  for (shard &s : r.shards) {
    std::lock_guard guard(s.lock);
    for (frame *f = s.head; f != nullptr; f = f->next_) {
      if (inherited_from_parent(*f))
        continue;
      auto st = static_cast<state>(f->state_.load(std::memory_order_relaxed));
      std::int64_t since = f->since_.load(std::memory_order_relaxed);
      std::uint64_t k = f->suspensions_.load(std::memory_order_relaxed);
      if (st == state::running && now - since > slow && f->watchdog_mark_.load() != 2 * k + 1) {
        f->watchdog_mark_.store(2 * k + 1);
        findings.push_back({describe(*f, now), true});
      } else if (st == state::suspended && now - since > hang &&
                 f->watchdog_mark_.load() != 2 * k + 2) {
        f->watchdog_mark_.store(2 * k + 2);
        findings.push_back({describe(*f, now), false});
      }
    }
  }
  for (finding &found : findings) {
    report::coroutine &c = found.who;
    std::string who = "'" + c.body.function + (c.name.empty() ? "" : " \"" + c.name + "\"") +
                      "' (coroutine #" + std::to_string(c.id) + ")";
    if (found.stall) {
      report::slow_step step;
      step.coroutine = c.id;
      step.name = c.name;
      step.from = c.site;
      step.duration_ns = c.in_state_ns;
      step.at_ms = double(c.age_ns) / 1e6;
      step.in_progress = true;
      r.slow_total.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard guard(r.records_lock);
        push_bounded(r.slow_steps, step, r.drop_slow);
      }
      log_line("coroscope: stall: " + who + " has run " + format_ms(double(c.in_state_ns) / 1e6) +
               " without suspending, since " + c.site.where());
      continue;
    }
    c.parents = parent_chain(c.parent);
    std::string text = "coroscope: hang: " + who + " suspended for " +
                       format_ms(double(c.in_state_ns) / 1e6) + " at " + c.site.where() +
                       "\n  #0 " + chain_entry(c);
    for (std::size_t i = 0; i < c.parents.size(); ++i)
      text += "\n  #" + std::to_string(i + 1) + " " + c.parents[i];
    log_line(text);
    report::hang h;
    h.who = std::move(c);
    h.waited_ns = h.who.in_state_ns;
    h.at_ms = ticks_to_ms_since_start(now) - double(h.waited_ns) / 1e6;
    r.hang_total.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard guard(r.records_lock);
    push_bounded(r.hangs, std::move(h), r.drop_hangs);
  }
}

void watchdog_main() {
  runtime &r = rt();
  double period_ms = std::clamp(std::min(r.cfg.slow_ms, r.cfg.hang_ms) / 4, 1.0, 100.0);
  std::unique_lock lock(r.watchdog_lock);
  while (!r.watchdog_stop) {
    r.watchdog_wake.wait_for(lock, std::chrono::microseconds(std::int64_t(period_ms * 1000)));
    if (r.watchdog_stop)
      break;
    lock.unlock();
    try {
      if (g_dump_requested.exchange(false))
        dump_async_stacks(std::cerr);
      watchdog_scan();
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
    step.name = f.name_;
    step.from = location_of(f.site_.load(std::memory_order_relaxed), f.body_);
    step.to = location_of(to, f.body_);
    step.thread = this_thread()->index;
    step.duration_ns = ticks_to_ns(end - begin);
    step.at_ms = ticks_to_ms_since_start(begin);
    bool seen_running = f.watchdog_mark_.load() ==
                        2 * std::uint64_t(f.suspensions_.load(std::memory_order_relaxed)) + 1;
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
  runtime &r = rt();
  try {
    std::uint64_t key = 2 * std::uint64_t(f.suspensions_.load(std::memory_order_relaxed)) + 2;
    bool reported = f.watchdog_mark_.load() == key;
    std::uint64_t waited = ticks_to_ns(end - begin);
    std::lock_guard guard(r.records_lock);
    if (reported) {
      for (auto it = r.hangs.rbegin(); it != r.hangs.rend(); ++it)
        if (it->who.id == f.id_ && !it->resolved) {
          it->resolved = true;
          it->waited_ns = waited;
          break;
        }
      return;
    }
    r.hang_total.fetch_add(1, std::memory_order_relaxed);
    report::hang h;
    {
      std::lock_guard shard_guard(r.shards[f.shard_].lock);
      h.who = describe(f, end);
    }
    h.who.site = location_of(at, f.body_);
    h.waited_ns = waited;
    h.resolved = true;
    h.at_ms = ticks_to_ms_since_start(begin);
    push_bounded(r.hangs, std::move(h), r.drop_hangs);
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
