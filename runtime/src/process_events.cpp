// What the tracker does when the process exits, is asked to stop, or forks:
// the final outputs (summary, report, trace) are written exactly once per
// process, to a file of the process's own, from a normal thread.
//
//   exit        an atexit handler writes them.
//   SIGTERM/INT when outputs are configured and the signal's action was the
//               default, the handler only wakes a service thread; it writes
//               the outputs, restores the default action and re-sends the
//               signal, so the process still dies of it. A second signal
//               during the write removes the temporaries and dies at once.
//               A program's own handler is chained to, untouched: it shuts
//               down its way and the outputs are written at exit.
//   fork        the child starts with empty statistics and no records; the
//               parent's coroutines are not its own. Its watchdog and signal
//               service restart with its first coroutine, and it writes
//               <path>.<pid> unless the path has %p.
#include "lock_tracker.hpp"
#include "tracker.hpp"

#include "coroscope/output.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <new>
#include <pthread.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <unistd.h>

namespace coroscope::detail {
namespace {

// --- Where outputs go -------------------------------------------------------

// One configured output (report or trace): the file this process last wrote
// there, to tell a second writer from an earlier run's leftover.
struct output_claim {
  bool valid = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string warned_for;
};
output_claim g_report_claim, g_trace_claim, g_lock_facts_claim;
// CLOCK_REALTIME_COARSE, the clock file times come from: a file written
// after this process started never looks older than its start.
timespec g_started_at{};
bool g_forked_child = false;

// "%p" becomes the pid and "%%" a percent sign.
std::string expand(const std::string &configured, bool &per_process) {
  std::string path;
  per_process = false;
  for (std::size_t i = 0; i < configured.size(); ++i) {
    if (configured[i] != '%' || i + 1 == configured.size()) {
      path += configured[i];
    } else if (configured[i + 1] == 'p') {
      path += std::to_string(::getpid());
      per_process = true;
      ++i;
    } else if (configured[i + 1] == '%') {
      path += '%';
      ++i;
    } else {
      path += configured[i];
    }
  }
  return path;
}

bool newer_than_start(const struct stat &info) {
  const timespec &m = info.st_mtim;
  return m.tv_sec > g_started_at.tv_sec ||
         (m.tv_sec == g_started_at.tv_sec && m.tv_nsec >= g_started_at.tv_nsec);
}

void warn_second_writer(output_claim &claim, const char *variable, const std::string &path,
                        const std::string &instead, const char *why) {
  if (claim.warned_for == path)
    return;
  claim.warned_for = path;
  std::fprintf(stderr,
               "coroscope: warning: %s '%s' %s; this process (pid %d) writes '%s' instead "
               "(put %%p in %s for one file per process)\n",
               variable, path.c_str(), why, static_cast<int>(::getpid()), instead.c_str(),
               variable);
}

// Writes one final output. A second writer of the same path, another
// process that wrote it since this one started or the parent of a forked
// child, never replaces the first one's file.
void write_output(const std::string &configured, const std::string &contents, const char *what,
                  const char *variable, output_claim &claim) {
  bool per_process = false;
  std::string path = expand(configured, per_process);
  std::string own = path + "." + std::to_string(::getpid());
  output::options how{.in_host_process = true};
  if (!per_process) {
    struct stat info {};
    bool exists = ::stat(path.c_str(), &info) == 0;
    bool ours = exists && claim.valid && claim.device == info.st_dev && claim.inode == info.st_ino;
    if (g_forked_child && !ours) {
      warn_second_writer(claim, variable, path, own, "is also the parent process's output");
      path = own;
    } else if (exists && S_ISREG(info.st_mode) && !ours && newer_than_start(info)) {
      warn_second_writer(claim, variable, path, own,
                         "was written by another process while this one ran");
      path = own;
    } else if (!exists) {
      how.no_replace = true;
    }
  }
  std::string error;
  output::status written = output::write_file(path, contents, error, how);
  if (written == output::status::exists) {
    warn_second_writer(claim, variable, path, own, "was written by another process just now");
    path = own;
    how.no_replace = false;
    written = output::write_file(path, contents, error, how);
  }
  if (written != output::status::written) {
    std::fprintf(stderr, "coroscope: error: cannot write the %s '%s': %s\n", what, path.c_str(),
                 error.c_str());
    return;
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && path == expand(configured, per_process)) {
    claim.valid = true;
    claim.device = info.st_dev;
    claim.inode = info.st_ino;
  }
}

// --- The final outputs ------------------------------------------------------

std::mutex g_final_lock;
bool g_final_written = false;

void write_final_outputs(int signal_number) {
  std::lock_guard guard(g_final_lock);
  if (g_final_written)
    return;
  g_final_written = true;
  stop_watchdog();
  if (g_gate.load() != 1)
    return;
  runtime &r = rt();
  try {
    if (g_dump_requested.exchange(false))
      dump_async_stacks(std::cerr);
    report::report snapshot = make_report(true);
    if (signal_number != 0)
      snapshot.terminated_by = signal_number == SIGTERM ? "SIGTERM"
                               : signal_number == SIGINT ? "SIGINT"
                                                         : "signal " + std::to_string(signal_number);
    if (r.cfg.summary)
      report::render_summary(snapshot, std::cerr);
    if (!r.cfg.report_path.empty())
      write_output(r.cfg.report_path, report::to_json(snapshot), "report", "COROSCOPE_REPORT",
                   g_report_claim);
    if (!r.cfg.lock_facts_path.empty())
      write_output(r.cfg.lock_facts_path, lock_facts_now(), "lock facts", "COROSCOPE_LOCK_FACTS",
                   g_lock_facts_claim);
    if (!r.cfg.trace_path.empty() && !write_flight_recording(signal_number))
      write_output(r.cfg.trace_path, trace_now(r.cfg.trace_path), "trace", "COROSCOPE_TRACE",
                   g_trace_claim);
  } catch (...) {
    std::fprintf(stderr, "coroscope: error: out of memory while writing the outputs\n");
  }
}

void at_exit_handler() { write_final_outputs(0); }

// --- SIGTERM and SIGINT -----------------------------------------------------

struct chained_signal {
  int number;
  struct sigaction previous;
  std::atomic<bool> installed{false};
};
chained_signal g_signals[] = {{SIGTERM, {}}, {SIGINT, {}}};

sem_t g_wake_service;
std::atomic<int> g_requested_signal{0};
// The process whose service thread waits on g_wake_service; a forked child
// has none until it restarts one.
std::atomic<pid_t> g_service_pid{0};

chained_signal *entry_for(int number) {
  for (chained_signal &s : g_signals)
    if (s.number == number)
      return &s;
  return nullptr;
}

bool is_function(const struct sigaction &action) {
  if (action.sa_flags & SA_SIGINFO)
    return action.sa_sigaction != nullptr;
  return action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN;
}

// Terminates the process as the signal's default action would.
[[noreturn]] void die_of(int number) {
  output::remove_temporaries_now();
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(number, &fallback, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, number);
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
  ::kill(::getpid(), number);
  ::raise(number);
  ::_exit(128 + number);
}

void on_termination_signal(int number, siginfo_t *info, void *context) {
  int saved_errno = errno;
  chained_signal *entry = entry_for(number);
  if (entry != nullptr && is_function(entry->previous)) {
    if (entry->previous.sa_flags & SA_SIGINFO)
      entry->previous.sa_sigaction(number, info, context);
    else
      entry->previous.sa_handler(number);
    errno = saved_errno;
    return;
  }
  int expected = 0;
  if (g_service_pid.load() == ::getpid() &&
      g_requested_signal.compare_exchange_strong(expected, number)) {
    sem_post(&g_wake_service);
    errno = saved_errno;
    return;
  }
  // Asked again while writing, or no thread to write: stop now.
  die_of(number);
}

void service_main() {
  while (sem_wait(&g_wake_service) != 0 && errno == EINTR) {
  }
  int number = g_requested_signal.load();
  write_final_outputs(number);
  die_of(number);
}

// Starts the thread that writes the outputs for a signal, with every signal
// blocked so none is delivered to it.
void start_signal_service() {
  if (g_service_pid.load() == ::getpid())
    return;
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  try {
    std::thread(service_main).detach();
    g_service_pid.store(::getpid());
  } catch (...) {
    std::fprintf(stderr, "coroscope: warning: cannot start the signal thread; outputs are "
                         "written at exit only\n");
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

void install_signal_handlers() {
  static bool semaphore_ready = sem_init(&g_wake_service, 0, 0) == 0;
  if (!semaphore_ready)
    return;
  for (chained_signal &s : g_signals) {
    if (s.installed.load())
      continue;
    struct sigaction current {};
    if (sigaction(s.number, nullptr, &current) != 0 || (!(current.sa_flags & SA_SIGINFO) &&
                                                        current.sa_handler == SIG_IGN))
      continue; // ignored on purpose (nohup, a shell's background job)
    s.previous = current;
    struct sigaction ours {};
    ours.sa_sigaction = on_termination_signal;
    sigemptyset(&ours.sa_mask);
    ours.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    if (sigaction(s.number, &ours, nullptr) == 0)
      s.installed.store(true);
  }
  start_signal_service();
}

// --- fork -------------------------------------------------------------------

void lock_all() {
  runtime &r = rt();
  g_configure_lock.lock();
  g_final_lock.lock();
  r.registry_lock.lock();
  r.records_lock.lock();
  for (shard &s : r.shards)
    s.lock.lock();
  r.log_lock.lock();
}

void unlock_all() {
  runtime &r = rt();
  r.log_lock.unlock();
  for (shard &s : r.shards)
    s.lock.unlock();
  r.records_lock.unlock();
  r.registry_lock.unlock();
  g_final_lock.unlock();
  g_configure_lock.unlock();
}

void before_fork() { lock_all(); }
void after_fork_in_parent() { unlock_all(); }

void after_fork_in_child() {
  unlock_all();
  runtime &r = rt();
  // The watchdog and its wait state belong to threads the child lacks.
  new (&r.watchdog) std::thread();
  new (&r.watchdog_wake) std::condition_variable();
  new (&r.watchdog_lock) std::mutex();
  r.watchdog_stop = false;

  g_forked_child = true;
  g_final_written = false;
  g_report_claim = {};
  g_trace_claim = {};
  g_lock_facts_claim = {};
  clock_gettime(CLOCK_REALTIME_COARSE, &g_started_at);
  g_requested_signal.store(0);
  sem_init(&g_wake_service, 0, 0);

  // Only the forking thread lives on; the others' records are left behind.
  thread_record *self = t_state != nullptr ? record_of(*t_state) : nullptr;
  r.threads.clear();
  r.free_records.clear(); // the parent's, and no longer reported
  if (self != nullptr) {
    r.threads.push_back(self);
    zero_thread(*self);
    self->trace_head.store(nullptr);
    self->trace_first = self->trace_tail = nullptr;
    t_state->next_id = t_state->id_limit; // a fresh id block
  }
  zero_ready_counts();
  // The child is a new process of one thread: its peak starts there.
  r.peak_threads.store(0, std::memory_order_relaxed);
  r.system_samples.store(0, std::memory_order_relaxed);
  r.inherited_below.store(r.next_id_block.load() + 1);
  forget_records_unlocked();
  r.trace_budget.store(static_cast<std::int64_t>(r.cfg.max_trace_events));
  r.start_ticks = now_ticks();
  r.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  r.start_time = std::chrono::steady_clock::now();
  r.restart_pending.store(true);
}

} // namespace

void install_process_hooks() {
  runtime &r = rt();
  if (!r.exit_registered) {
    r.exit_registered = true;
    clock_gettime(CLOCK_REALTIME_COARSE, &g_started_at);
    std::atexit(at_exit_handler);
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  }
  if (!r.cfg.report_path.empty() || !r.cfg.trace_path.empty() || r.cfg.summary ||
      !r.cfg.lock_facts_path.empty())
    install_signal_handlers();
}

void restart_after_fork() {
  runtime &r = rt();
  std::lock_guard guard(g_configure_lock);
  if (!r.restart_pending.exchange(false))
    return;
  if (r.cfg.watchdog || r.cfg.signal)
    start_watchdog();
  if (g_service_pid.load() != 0)
    start_signal_service();
}

namespace {
__attribute__((constructor(101))) void configure_at_load() { configure_on_first_use(); }
} // namespace

} // namespace coroscope::detail
