// RUN: %check_coro_tidy %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LockingIsBlocking: true}}"

// Every family of the built-in catalogue (locking with LockingIsBlocking on;
// options.cpp checks it is off by default), each with calls that must not be
// reported next to the ones that must.

#include <coro_test/tasks.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <thread>

#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace std::chrono_literals;

std::mutex mu;
std::timed_mutex timed;
std::recursive_mutex recursive;
std::shared_mutex shared;
pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;

cppcoro::task<> sleeping() {
  std::this_thread::sleep_for(10ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_for' blocks the thread while coroutine 'sleeping' runs; sleeping stalls every coroutine on this thread [coro-blocking-call]
  std::this_thread::sleep_until(std::chrono::steady_clock::now());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_until' blocks {{.*}}; sleeping stalls
  sleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'sleep' blocks the thread while coroutine 'sleeping' runs; sleeping
  ::usleep(10);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'usleep' blocks {{.*}}; sleeping
  timespec ts{0, 1000};
  nanosleep(&ts, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'nanosleep' blocks {{.*}}; sleeping
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'clock_nanosleep' blocks {{.*}}; sleeping
  std::this_thread::yield(); // not blocking
  std::this_thread::get_id();
  co_return;
}

cppcoro::task<> locking() {
  mu.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::mutex::lock' on 'mu' blocks the thread while coroutine 'locking' runs; synchronous locking stalls every coroutine on this thread [coro-blocking-call]
  mu.unlock();
  timed.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::timed_mutex::lock' on 'timed' blocks {{.*}}; synchronous locking
  recursive.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::recursive_mutex::lock' on 'recursive' blocks
  shared.lock_shared();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::shared_mutex::lock_shared' on 'shared' blocks
  pthread_mutex_lock(&pmu);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'pthread_mutex_lock' blocks {{.*}}; synchronous locking
  {
    std::lock_guard<std::mutex> guard(mu);
    // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: constructing 'std::lock_guard<std::mutex>' on 'mu' blocks the thread while coroutine 'locking' runs; synchronous locking
  }
  {
    std::scoped_lock both(mu, recursive);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: constructing 'std::scoped_lock<std::mutex, std::recursive_mutex>' on 'mu' blocks
  }
  {
    std::unique_lock lock(mu);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: constructing 'std::unique_lock<std::mutex>' on 'mu' blocks
    lock.unlock();
    lock.lock();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'std::unique_lock<std::mutex>::lock' on 'lock' blocks
  }
  {
    std::shared_lock reader(shared);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: constructing 'std::shared_lock<std::shared_mutex>' on 'shared' blocks
  }
  // Deferred, tried, adopted and timed acquisitions do not block.
  std::unique_lock deferred(mu, std::defer_lock);
  std::unique_lock tried(mu, std::try_to_lock);
  std::unique_lock timed_lock(timed, 10ms);
  std::unique_lock moved(std::move(deferred));
  mu.try_lock();
  timed.try_lock_for(1ms);
  pthread_mutex_trylock(&pmu);
  {
    std::lock_guard adopted(mu, std::adopt_lock);
    std::scoped_lock adopted_all(std::adopt_lock, recursive);
    std::scoped_lock<> nothing;
  }
  co_return;
}

std::condition_variable cv;
std::condition_variable_any cv_any;

cppcoro::task<> condition_variables(std::unique_lock<std::mutex> &lock) {
  cv.wait(lock);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::condition_variable::wait' on 'cv' blocks the thread while coroutine 'condition_variables' runs; waiting on a condition variable stalls every coroutine on this thread
  cv.wait_for(lock, 1ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::condition_variable::wait_for' {{.*}}waiting on a condition variable
  cv_any.wait_until(lock, std::chrono::steady_clock::now());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::condition_variable_any::wait_until' {{.*}}waiting on a condition variable
  cv.notify_one(); // not blocking
  co_return;
}

cppcoro::task<int> futures_and_threads(std::future<int> f,
                                       std::shared_future<int> sf,
                                       std::thread &t, std::jthread &jt) {
  int value = f.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'std::future<int>::get' on 'f' blocks the thread while coroutine 'futures_and_threads' runs; waiting on a future, thread or synchronization primitive stalls every coroutine on this thread
  sf.wait_for(1ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::shared_future<int>::wait_for' {{.*}}waiting on a future, thread or synchronization primitive
  t.join();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::thread::join' {{.*}}waiting on a future
  jt.join();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::jthread::join' {{.*}}waiting on a future
  std::binary_semaphore sem(0);
  sem.acquire();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::binary_semaphore::acquire' {{.*}}waiting on a future
  std::latch done(1);
  done.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::latch::wait' {{.*}}waiting on a future
  std::barrier sync(2);
  sync.arrive_and_wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::barrier<{{.*}}>::arrive_and_wait' on 'sync' {{.*}}waiting on a future
  std::atomic<int> flag{0};
  flag.wait(0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::atomic<int>::wait' {{.*}}waiting on a future
  // Non-blocking members of the same types.
  f.valid();
  sem.try_acquire();
  sem.release();
  done.count_down();
  flag.notify_all();
  t.joinable();
  t.detach();
  co_return value;
}

cppcoro::task<> posix_io(int fd, int sock) {
  char buf[64];
  read(fd, buf, sizeof buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'read' blocks the thread while coroutine 'posix_io' runs; blocking I/O stalls every coroutine on this thread
  ::write(fd, buf, 1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'write' blocks {{.*}}; blocking I/O
  recv(sock, buf, sizeof buf, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'recv' blocks {{.*}}; blocking I/O
  accept(sock, nullptr, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'accept' blocks {{.*}}; blocking I/O
  pollfd pfd{fd, POLLIN, 0};
  poll(&pfd, 1, -1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'poll' blocks {{.*}}; blocking I/O
  // A zero timeout only polls: it returns at once.
  poll(&pfd, 1, 0);
  constexpr int no_wait = 0;
  epoll_event event{};
  epoll_wait(fd, &event, 1, no_wait);
  epoll_wait(fd, &event, 1, 10);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'epoll_wait' blocks {{.*}}; blocking I/O
  waitpid(-1, nullptr, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'waitpid' blocks {{.*}}; blocking I/O
  system("true");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'system' blocks {{.*}}; blocking I/O
  addrinfo *info = nullptr;
  getaddrinfo("localhost", "80", nullptr, &info);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'getaddrinfo' blocks {{.*}}; blocking I/O
  fsync(fd);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'fsync' blocks {{.*}}; blocking I/O
  flock(fd, LOCK_EX);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'flock' blocks {{.*}}; blocking I/O
  // Cheap, non-blocking system calls.
  close(fd);
  getpid();
  freeaddrinfo(info);
  co_return;
}

cppcoro::task<> stdio_and_streams(std::ofstream &log, std::ifstream &in) {
  FILE *f = fopen("/tmp/x", "r");
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'fopen' blocks the thread while coroutine 'stdio_and_streams' runs; synchronous file or console I/O stalls every coroutine on this thread
  char line[32];
  fgets(line, sizeof line, f);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'fgets' blocks {{.*}}; synchronous file or console I/O
  int n = 0;
  scanf("%d", &n);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'scanf' blocks {{.*}}; synchronous file or console I/O
  std::string word;
  std::getline(std::cin, word);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::getline' on 'std::cin' blocks {{.*}}; synchronous file or console I/O
  std::cin >> n >> word;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::istream::operator>>' on 'std::cin' blocks {{.*}}; synchronous file or console I/O
  std::ifstream config("/etc/hostname");
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: constructing 'std::ifstream' on '"/etc/hostname"' blocks
  log << "event " << n << '\n';
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::operator<<' on 'log' blocks {{.*}}; synchronous file or console I/O
  in >> n;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::ifstream::operator>>' on 'in' blocks
  log.flush();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::ofstream::flush' on 'log' blocks
  // A /proc file is made by the kernel on the spot: reading it never waits
  // for a device (Catch2 and doctest read /proc/self/status).
  std::ifstream status("/proc/self/status");
  std::getline(status, word);
  std::ifstream maps(std::string("/proc/self/maps"));
  // Formatting into memory, console output and stream state are not I/O
  // that waits on the outside world.
  char out[32];
  snprintf(out, sizeof out, "%d", n);
  sscanf("1", "%d", &n);
  std::cout << n << '\n';
  std::ofstream unopened;
  log.is_open();
  in.good();
  co_return;
}
