// Many threads resuming coroutines concurrently: 4 pool threads, 100k
// coroutines, each hopping threads and awaiting a child. Built three ways by
// the test suite: plain, under ThreadSanitizer and under AddressSanitizer
// (whose LeakSanitizer checks the runtime frees what it should).
#include "support.hpp"
#include "test_util.hpp"

#include <latch>

using namespace coroscope_test;

namespace {

constexpr int kCoroutines = 100'000;
constexpr unsigned kThreads = 4;

task<int> stress_child(thread_pool &pool, int v) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  COROSCOPE_RETURN(v + 1);
}

fire_and_forget stress_root(thread_pool &pool, std::latch &done, std::atomic<long> &sum, int i) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(pool.schedule());
  int v = COROSCOPE_AWAIT(stress_child(pool, i));
  if (i % 10 == 0)
    coroscope::name_current("tenth");
  sum += v;
  done.count_down();
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, ManyThreadsResumingCoroutines) {
  std::latch done(kCoroutines);
  std::atomic<long> sum{0};
  {
    thread_pool pool(kThreads);
    std::thread reader([&] {
      // Reports and async stacks are read while coroutines run.
      for (int i = 0; i < 20; ++i) {
        auto r = coroscope::detail::make_report();
        std::ostringstream sink;
        coroscope::dump_async_stacks(sink);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    for (int i = 0; i < kCoroutines; ++i)
      stress_root(pool, done, sum, i);
    done.wait();
    reader.join();
  }
  long expected = 0;
  for (int i = 0; i < kCoroutines; ++i)
    expected += i + 1;
  EXPECT_EQ(sum.load(), expected);

  auto r = coroscope::detail::make_report();
  const auto *root = function_named(r, "stress_root");
  const auto *child = function_named(r, "stress_child");
  ASSERT_NE(root, nullptr);
  ASSERT_NE(child, nullptr);
  // A root counts down its latch before its frame ends, so wait for the ends.
  ASSERT_TRUE(eventually([&] {
    r = coroscope::detail::make_report();
    return function_named(r, "stress_root")->finished == kCoroutines;
  }));
  root = function_named(r, "stress_root");
  child = function_named(r, "stress_child");
  EXPECT_EQ(root->started, std::uint64_t(kCoroutines));
  EXPECT_EQ(child->finished, std::uint64_t(kCoroutines));
  EXPECT_EQ(root->suspensions, 2u * kCoroutines);
  EXPECT_GE(root->cross_thread_resumptions, 1u);
  EXPECT_EQ(root->duration.count, std::uint64_t(kCoroutines));
  EXPECT_TRUE(r.live.empty());
}

// The flight recorder under the same load: traces are read out of the rings
// while the pool threads overwrite them.
TEST_F(RuntimeTest, TraceRingsAreReadWhileWritten) {
  auto cfg = config();
  cfg.trace_path = "/dev/null";
  cfg.trace_window_steps = 2000;
  reset(cfg);
  constexpr int kTraced = kCoroutines / 4;
  std::latch done(kTraced);
  std::atomic<long> sum{0};
  {
    thread_pool pool(kThreads);
    std::thread reader([&] {
      for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(coroscope::write_trace("/dev/null"));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    for (int i = 0; i < kTraced; ++i)
      stress_root(pool, done, sum, i);
    done.wait();
    reader.join();
  }
  EXPECT_TRUE(coroscope::write_trace("/dev/null"));
}

} // namespace
