// The flight recorder: with COROSCOPE_TRACE_WINDOW, the trace buffers are
// rings (trace_ring.cpp), and their window is written to COROSCOPE_TRACE
// whenever something asks (trace_trigger(): a hang, a failure, SIGUSR1) and
// at exit. Every dump replaces the file.
//
// A trigger only records its reason and wakes a thread of the recorder's
// own, which writes at most one dump a second: triggers that come sooner
// wait and share the next dump. The final dump at exit waits for a dump in
// progress, then closes the recorder, so it is the file that stays.
#include "trace.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <new>
#include <pthread.h>
#include <unistd.h>
#include <utility>

namespace coroscope::detail {
namespace {

constexpr auto kMinInterval = std::chrono::seconds(1);

struct recorder_state {
  std::mutex lock; // held only briefly, never while writing
  std::condition_variable wake;
  bool running = false;  // this process's dump thread runs
  bool stopping = false; // asked to leave
  bool closed = false;   // the final dump is written or being written
  const char *pending = nullptr;
  std::chrono::steady_clock::time_point last_dump{};
};

// Never destroyed: exit handlers and late triggers use it.
recorder_state &recorder() {
  static recorder_state *state = new recorder_state;
  return *state;
}

std::atomic<bool> g_armed{false};   // a window and a path are configured
std::atomic<bool> g_pending{false}; // a dump is asked for: later triggers return at once
bool g_forked_child = false;

// COROSCOPE_TRACE with "%p" as the pid and "%%" as "%"; in a forked child
// without "%p", <path>.<pid>, as the other outputs.
std::string dump_path(const std::string &configured) {
  std::string path;
  bool per_process = false;
  for (std::size_t i = 0; i < configured.size(); ++i) {
    if (configured[i] == '%' && i + 1 < configured.size() && configured[i + 1] == 'p') {
      path += std::to_string(::getpid());
      per_process = true;
      ++i;
    } else if (configured[i] == '%' && i + 1 < configured.size() && configured[i + 1] == '%') {
      path += '%';
      ++i;
    } else {
      path += configured[i];
    }
  }
  if (g_forked_child && !per_process) {
    path += '.';
    path += std::to_string(::getpid());
  }
  return path;
}

void write_dump(const char *why) {
  const std::string &configured = rt().cfg.trace_path;
  std::string path = dump_path(configured);
  write_now(path, "trace", [&] {
    return encode_trace(take_trace_snapshot(why), format_for(configured));
  });
}

void dump_thread() {
  recorder_state &s = recorder();
  std::unique_lock lock(s.lock);
  while (!s.stopping) {
    if (s.pending == nullptr) {
      s.wake.wait(lock);
      continue;
    }
    if (s.wake.wait_until(lock, s.last_dump + kMinInterval, [&] { return s.stopping; }))
      break;
    const char *why = std::exchange(s.pending, nullptr);
    g_pending.store(false);
    lock.unlock();
    write_dump(why);
    lock.lock();
    s.last_dump = std::chrono::steady_clock::now();
  }
  s.running = false;
  s.wake.notify_all();
}

// Started with every signal blocked, so that none is delivered to it.
void start_dump_thread(recorder_state &s) {
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  try {
    std::thread(dump_thread).detach();
    s.running = true;
  } catch (...) {
    std::fprintf(stderr, "coroscope: warning: cannot start the flight recorder's thread; the "
                         "trace is written at exit only\n");
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

// Waits for the dump thread to leave; the caller holds s.lock.
void stop_locked(recorder_state &s, std::unique_lock<std::mutex> &lock) {
  s.stopping = true;
  s.wake.notify_all();
  s.wake.wait(lock, [&] { return !s.running; });
  s.stopping = false;
}

// The child has no dump thread, and a lock its parent's held stays held.
void after_fork_in_child() {
  recorder_state &s = recorder();
  new (&s.lock) std::mutex();
  new (&s.wake) std::condition_variable();
  s.running = s.stopping = s.closed = false;
  s.pending = nullptr;
  s.last_dump = {};
  g_pending.store(false);
  g_forked_child = true;
  rt().drop_trace_window.store(0);
}

} // namespace

void stop_flight_recorder() {
  g_armed.store(false);
  recorder_state &s = recorder();
  std::unique_lock lock(s.lock);
  stop_locked(s, lock);
  s.closed = false;
  s.pending = nullptr;
  s.last_dump = {};
  g_pending.store(false);
}

void configure_flight_recorder(const config &cfg) {
  static bool fork_handler = pthread_atfork(nullptr, nullptr, after_fork_in_child) == 0;
  (void)fork_handler;
  g_armed.store(window_configured(cfg) && !cfg.trace_path.empty());
}

void trace_trigger(const char *why) noexcept {
  if (!g_armed.load(std::memory_order_relaxed) || g_pending.exchange(true))
    return;
  recorder_state &s = recorder();
  std::lock_guard guard(s.lock);
  if (s.closed || s.stopping) // the final dump covers it
    return;
  s.pending = why;
  if (!s.running)
    start_dump_thread(s);
  s.wake.notify_all();
}

bool write_flight_recording(int signal_number) {
  const config &cfg = rt().cfg;
  if (!window_configured(cfg) || cfg.trace_path.empty())
    return false;
  {
    recorder_state &s = recorder();
    std::unique_lock lock(s.lock);
    s.closed = true;
    stop_locked(s, lock);
  }
  write_dump(signal_number == 0         ? "exit"
             : signal_number == SIGTERM ? "SIGTERM"
             : signal_number == SIGINT  ? "SIGINT"
                                        : "signal");
  return true;
}

} // namespace coroscope::detail
