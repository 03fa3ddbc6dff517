// RUN: %check_coro_tidy %s coro-blocking-call %t -- \
// RUN:   -config="{CheckOptions: {coro-blocking-call.LockingIsBlocking: true}}"

// Scope: templates (pattern vs instantiation), lambdas, member functions,
// nested coroutines, macros, co_yield/co_return operands, unevaluated code.

#include <coro_test/tasks.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unistd.h>

using namespace std::chrono_literals;

// A template whose pattern blocks: one warning, at the pattern, however many
// instantiations there are.
template <typename T> cppcoro::task<T> delayed(T value) {
  std::this_thread::sleep_for(1ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_for' blocks the thread while coroutine 'delayed' runs; sleeping
  co_return value;
}
template cppcoro::task<int> delayed(int);
template cppcoro::task<long> delayed(long);

// A dependent call that resolves to a blocking function in the pattern.
template <typename Duration> cppcoro::task<> nap(Duration d) {
  std::this_thread::sleep_for(d);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'std::this_thread::sleep_for' blocks the thread while coroutine 'nap' runs
  co_return;
}

// Only one instantiation blocks: reported at the pattern's call, with a note
// naming the instantiation.
struct Immediate {
  int get() { return 1; }
};
template <typename Source> cppcoro::task<int> take(Source source) {
  co_return source.get();
  // CHECK-NOTES: :[[@LINE-1]]:13: warning: 'std::future<int>::get' on 'source' blocks the thread while coroutine 'take' runs; waiting on a future, thread or synchronization primitive stalls every coroutine on this thread [coro-blocking-call]
  // CHECK-NOTES: :[[@LINE+12]]:12: note: only the instantiation 'take<std::future<int>>' blocks; it is instantiated here
}

// The pattern names no blocking call and no instantiation blocks.
template <typename Source> cppcoro::task<int> take_quietly(Source source) {
  co_return source.get();
}

void instantiate(std::future<int> f) {
  auto a = nap(1ms);
  auto b = take(Immediate{});
  auto c = take_quietly(Immediate{});
  auto d = take(std::move(f));
}

// Member functions, including those of class templates.
class Server {
public:
  cppcoro::task<> handle() {
    std::lock_guard<std::mutex> guard(mu_);
    // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: constructing 'std::lock_guard<std::mutex>' on 'mu_' blocks the thread while coroutine 'Server::handle' runs; synchronous locking
    co_return;
  }
  void not_a_coroutine() { mu_.lock(); mu_.unlock(); }

private:
  std::mutex mu_;
};

template <typename T> struct Pool {
  cppcoro::task<T> take() {
    mu.lock();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'std::mutex::lock' on 'mu' blocks the thread while coroutine 'Pool::take' runs
    mu.unlock();
    co_return T{};
  }
  std::mutex mu;
};
template struct Pool<int>;

// Lambdas: a coroutine lambda is checked; a plain lambda is not, because it
// runs wherever it is handed to.
void spawn_work() {
  auto worker = []() -> cppcoro::task<> {
    ::sleep(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'sleep' blocks the thread while coroutine lambda in 'spawn_work' runs; sleeping
    co_return;
  };
  std::thread t([] { ::sleep(1); });
  t.join();
}

cppcoro::task<> outer() {
  // A lambda handed to a thread: not this coroutine's code.
  std::thread t([] {
    std::this_thread::sleep_for(1ms);
  });
  t.detach();
  // A nested coroutine lambda is a coroutine of its own, named after the
  // function it is written in.
  auto inner = [&]() -> cppcoro::task<> {
    usleep(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'usleep' blocks the thread while coroutine lambda in 'outer' runs
    co_return;
  };
  co_await inner();
  // A local class's members run elsewhere too.
  struct Local {
    static void wait() { ::sleep(1); }
  };
  (void)&Local::wait;
  co_return;
}

// Generic coroutine lambda, instantiated twice: reported once.
auto generic = [](auto x) -> cppcoro::task<> {
  ::usleep(x);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'usleep' blocks the thread while coroutine '(lambda at {{.*}}templates-lambdas.cpp{{.*}})' runs
  co_return;
};
void use_generic() {
  auto a = generic(1);
  auto b = generic(2u);
}

// co_yield and co_return operands and co_await operands are evaluated here.
cppcoro::generator<int> numbers(std::future<int> &f) {
  co_yield f.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'std::future<int>::get' on 'f' blocks
}
cppcoro::task<int> twice(std::future<int> &f) {
  co_await delayed(::sleep(1));
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: 'sleep' blocks the thread while coroutine 'twice' runs
  co_return f.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'std::future<int>::get' on 'f' blocks
}

// Macros: reported at the use, in the coroutine.
#define NAP() ::usleep(100)
cppcoro::task<> macro_user() {
  NAP();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'usleep' blocks the thread while coroutine 'macro_user' runs
  // CHECK-NOTES: :[[@LINE-4]]:15: note: expanded from macro 'NAP'
  co_return;
}

// Unevaluated operands and discarded constexpr branches never run.
cppcoro::task<> unevaluated() {
  constexpr auto size = sizeof(::sleep(1));
  using Result = decltype(::usleep(1));
  constexpr bool nothrow = noexcept(std::this_thread::sleep_for(1ms));
  if constexpr (false) {
    ::sleep(1);
  }
  if constexpr (sizeof(int) == 4) {
    ::usleep(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'usleep' blocks the thread while coroutine 'unevaluated' runs
  } else {
    ::sleep(2);
  }
  (void)size;
  (void)nothrow;
  co_return;
}

// Plain functions are not coroutines; their blocking calls are their callers'
// business (see transitive.cpp).
void plain() { ::sleep(1); }
