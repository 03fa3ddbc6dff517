// RUN: %check_coro_tidy %s coro-blocking-call %t

// The synchronous waits of the coroutine libraries, matched by qualified
// name: in a coroutine they block its thread until another coroutine ends,
// and deadlock when that one needs the same thread. At the top level, where
// a program starts its loop, they are not reported.

#include <coro_test/tasks.h>

namespace async_simple::coro {
template <typename T> class Lazy {};
template <typename T> T syncAwait(Lazy<T> &&);
} // namespace async_simple::coro
namespace boost::cobalt {
template <typename T> class task {};
template <typename T> T run(task<T>);
} // namespace boost::cobalt
namespace concurrencpp {
template <typename T> class result {
public:
  T get();
  void wait();
};
template <typename T> class shared_result {
public:
  T get();
};
} // namespace concurrencpp
class QThread {
public:
  bool wait(unsigned long time = ~0UL);
};
template <typename T> class QFuture {
public:
  void waitForFinished();
};
class QEventLoop {
public:
  int exec(int flags = 0);
};

cppcoro::task<int> compute() { co_return 1; }

cppcoro::task<int> waits(async_simple::coro::Lazy<int> lazy,
                         boost::cobalt::task<int> cobalt,
                         concurrencpp::result<int> result,
                         concurrencpp::shared_result<int> shared) {
  int a = async_simple::coro::syncAwait(static_cast<async_simple::coro::Lazy<int> &&>(lazy));
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: 'async_simple::coro::syncAwait' blocks the thread while coroutine 'waits' runs; waiting synchronously for a coroutine (sync-over-async, which can deadlock) stalls every coroutine on this thread [coro-blocking-call]
  int b = boost::cobalt::run(cobalt);
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: 'boost::cobalt::run' blocks {{.*}}; waiting synchronously for a coroutine (sync-over-async, which can deadlock)
  result.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'concurrencpp::result<int>::wait' on 'result' blocks {{.*}}; waiting synchronously for a coroutine
  int c = result.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: 'concurrencpp::result<int>::get' on 'result' blocks {{.*}}; waiting synchronously for a coroutine
  int d = shared.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: 'concurrencpp::shared_result<int>::get' on 'shared' blocks {{.*}}; waiting synchronously for a coroutine
  cppcoro::sync_wait(compute());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cppcoro::sync_wait' blocks {{.*}}; waiting synchronously for a coroutine
  co_return a + b + c + d + co_await compute();
}

cppcoro::task<> qt(QThread &worker, QFuture<int> &future, QEventLoop &loop) {
  worker.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'QThread::wait' on 'worker' blocks {{.*}}; waiting on a future, thread or synchronization primitive
  future.waitForFinished();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'QFuture<int>::waitForFinished' on 'future' blocks {{.*}}; waiting on a future, thread or synchronization primitive
  loop.exec();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'QEventLoop::exec' on 'loop' blocks {{.*}}; running an event loop or waiting synchronously
  co_return;
}

// A function of the same name in another namespace is not one of them.
namespace mine {
template <typename T> T sync_wait(T value) { return value; }
} // namespace mine
cppcoro::task<int> not_a_library_wait() { co_return mine::sync_wait(1); }

int start(concurrencpp::result<int> result) {
  cppcoro::sync_wait(compute());
  return result.get();
}
