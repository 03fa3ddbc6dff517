// An instrumented program for process_events_test.py: each mode makes the
// tracker meet one process event (exit, a signal, fork, a second writer) and
// the driver checks the files and exit status that result.
//
//   work N          runs N coroutines and exits 0
//   hold            runs 2 coroutines, prints "ready", waits for a line on
//                   stdin, then exits 0
//   wait            runs 3 coroutines, leaves one suspended, prints "ready"
//                   and sleeps until a signal ends it
//   own-handler     installs a SIGTERM handler that asks main to return,
//                   then configures the tracker (so ours chains to it),
//                   raises SIGTERM and exits 0 from main
//   later-handler   like own-handler, but the program's handler is
//                   installed after the tracker's
//   double-signal   big trace; SIGTERM, then SIGTERM again while the
//                   outputs are being written
//   exit-signal     big trace; SIGTERM while exit() writes the outputs
//   fork            11 coroutines (2 left suspended), then fork: the child
//                   runs 7 and waits for a hang report from its watchdog
//   exit-in-coroutine  calls std::exit(3) inside a coroutine body
//   thread-outlives-main  a detached thread keeps running coroutines while
//                   main returns
#include "support.hpp"

#include <coroscope/output.hpp>
#include <coroscope/testing.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using coroscope_test::event;
using coroscope_test::fire_and_forget;
using coroscope_test::task;

namespace {

task<int> leaf(int v) {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(v + 1);
}

task<int> parent(int v) {
  COROSCOPE_CORO();
  int x = COROSCOPE_AWAIT(leaf(v));
  COROSCOPE_RETURN(x);
}

fire_and_forget waiter(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

// Runs `n` coroutines to their end (each also starts a leaf: 2n in all).
void run(int n) {
  for (int i = 0; i < n; ++i) {
    auto t = parent(i);
    t.start();
  }
}

// Many suspensions, so the trace is large enough to be written for a while.
fire_and_forget churn(event &e, int rounds) {
  COROSCOPE_CORO();
  for (int i = 0; i < rounds; ++i)
    COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

std::atomic<bool> g_stop{false};
void ask_to_stop(int) { g_stop.store(true); }

void install_program_handler() {
  struct sigaction action {};
  action.sa_handler = ask_to_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
}

coroscope::detail::config config_from_environment() {
  std::vector<std::string> warnings;
  return coroscope::detail::read_config([](const char *name) { return std::getenv(name); },
                                        warnings);
}

void signal_self_once(const char *) {
  static std::atomic<bool> sent{false};
  if (!sent.exchange(true))
    ::kill(::getpid(), SIGTERM);
}

void signal_self_every_time(const char *) { ::kill(::getpid(), SIGTERM); }

int wait_for_hang_report() {
  for (int i = 0; i < 2000; ++i) {
    if (coroscope::detail::make_report().hang_total != 0)
      return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 4;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  static event never; // left unfired: its waiters stay suspended
  if (mode == "work") {
    run(argc > 2 ? std::atoi(argv[2]) : 1);
    return 0;
  }
  if (mode == "hold") {
    run(1);
    std::cout << "ready" << std::endl;
    std::string line;
    std::getline(std::cin, line);
    return 0;
  }
  if (mode == "wait") {
    run(1);
    waiter(never);
    std::cout << "ready" << std::endl;
    while (true)
      ::pause();
  }
  if (mode == "own-handler" || mode == "later-handler") {
    if (mode == "own-handler")
      install_program_handler();
    coroscope::detail::reset_for_testing(config_from_environment());
    if (mode == "later-handler")
      install_program_handler();
    run(2);
    ::raise(SIGTERM);
    while (!g_stop.load())
      ::pause();
    std::cout << "stopped by the program's handler" << std::endl;
    return 0;
  }
  if (mode == "double-signal" || mode == "exit-signal") {
    static event release;
    for (int i = 0; i < 200; ++i)
      churn(release, 500);
    if (mode == "double-signal") {
      // The first SIGTERM starts the write; the hook sends a second one.
      coroscope::output::set_temporary_hook_for_testing(signal_self_every_time);
      ::kill(::getpid(), SIGTERM);
      while (true)
        ::pause();
    }
    coroscope::output::set_temporary_hook_for_testing(signal_self_once);
    return 0;
  }
  if (mode == "fork") {
    run(5);    // 10 coroutines
    waiter(never); // and one suspended: 11 started
    {
      // A sample with 8 more threads: the parent's peak, not the child's.
      std::atomic<bool> sampled{false};
      std::vector<std::thread> extra;
      for (int i = 0; i < 8; ++i)
        extra.emplace_back([&] { sampled.wait(false); });
      coroscope::detail::note_system_sample();
      sampled = true;
      sampled.notify_all();
      for (std::thread &t : extra)
        t.join();
    }
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0)
      return 2;
    if (child == 0) {
      run(3);        // 6
      waiter(never); // and one to hang: 7 started in the child
      return wait_for_hang_report();
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 3;
  }
  if (mode == "exit-in-coroutine") {
    run(1);
    [] () -> fire_and_forget {
      COROSCOPE_CORO();
      std::exit(3);
    }();
    return 1;
  }
  if (mode == "thread-outlives-main") {
    std::thread([] {
      while (true)
        run(1);
    }).detach();
    run(20);
    return 0;
  }
  std::fprintf(stderr, "process_probe: unknown mode '%s'\n", mode.c_str());
  return 2;
}
