// RUN: %check_coro_tidy %s coro-blocking-call %t -- -- -I%S/Inputs/library
// RUN: %check_coro_tidy -check-suffixes=,ALL %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {LibraryNamespaces: '', LibraryPaths: ''}}" -- -I%S/Inputs/library
// RUN: %check_coro_tidy -check-suffixes=,LOCAL %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LibraryNamespaces: 'ringbuf', coro-blocking-call.LibraryPaths: ''}}" -- -I%S/Inputs/library

// Where the user's code ends: a library's internals (Asio's posix_mutex, a
// lock-free queue's back-off sleep) are not the user's blocking calls, by
// namespace (LibraryNamespaces) or by path (LibraryPaths), whatever the
// include flags. A library function that truly blocks stays reported
// through the catalogue. The options are read with getLocalOrGlobal: ALL
// sets them globally, LOCAL for this check.

#include "netlib.h"
#include "third_party/ringbuf/ringbuf.h"
#include <coro_test/tasks.h>

namespace app {
inline void flush_stats() { ::usleep(10); }
} // namespace app

cppcoro::task<> serve(asio::socket &socket, ringbuf::queue &queue) {
  asio::steady_timer timer;
  timer.expires_after(5);
  // CHECK-MESSAGES-ALL: :[[@LINE-1]]:3: warning: 'asio::steady_timer::expires_after' blocks the thread while coroutine 'serve' runs; it reaches 'usleep' (sleeping)
  // CHECK-MESSAGES-LOCAL: :[[@LINE-2]]:3: warning: 'asio::steady_timer::expires_after' blocks the thread while coroutine 'serve' runs; it reaches 'usleep' (sleeping)
  queue.push(1);
  // CHECK-MESSAGES-ALL: :[[@LINE-1]]:3: warning: 'ringbuf::queue::push' blocks the thread while coroutine 'serve' runs; it reaches 'usleep' (sleeping)
  asio::write(socket, "x", 1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'asio::write' blocks the thread while coroutine 'serve' runs; blocking I/O stalls every coroutine on this thread [coro-blocking-call]
  app::flush_stats();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'app::flush_stats' blocks the thread while coroutine 'serve' runs; it reaches 'usleep' (sleeping)
  co_return;
}
