// Many threads resuming coroutines concurrently: 4 pool threads, 100k
// coroutines, each hopping threads and awaiting a child. Built three ways by
// the test suite: plain, under ThreadSanitizer and under AddressSanitizer
// (whose LeakSanitizer checks the runtime frees what it should).
#include "support.hpp"
#include "test_util.hpp"

#include <latch>
#include <stdexcept>
#include <vector>

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

task<int> short_lived_ok(int v) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_RETURN(v);
}

task<int> short_lived_fails() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    throw std::runtime_error("short-lived");
  }
  COROSCOPE_CATCH
}

// A test suite's shape: many threads, each living for a few coroutines,
// while reports are taken. The totals are exact, and the runtime keeps as
// many thread records as there were threads at once, not one per thread:
// an exited thread's record, its statistics kept, is the next one's.
TEST_F(RuntimeTest, ShortLivedThreadsKeepExactTotalsInBoundedMemory) {
  constexpr int kShortThreads = 10'000, kAtOnce = 8;
  const std::size_t records_before = coroscope::detail::thread_records_for_testing();
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      auto r = coroscope::detail::make_report();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::atomic<int> sum{0};
  for (int wave = 0; wave < kShortThreads / kAtOnce; ++wave) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kAtOnce; ++i)
      threads.emplace_back([&] {
        auto ok = short_lived_ok(1);
        ok.start();
        sum += ok.result();
        auto failing = short_lived_fails();
        failing.start();
      });
    for (std::thread &t : threads)
      t.join();
  }
  stop = true;
  reader.join();
  EXPECT_EQ(sum.load(), kShortThreads);
  auto r = coroscope::detail::make_report();
  auto s = coroscope::report::summarize(r);
  EXPECT_EQ(s.started, 2u * kShortThreads);
  EXPECT_EQ(s.finished, std::uint64_t(kShortThreads));
  EXPECT_EQ(s.failed, std::uint64_t(kShortThreads));
  EXPECT_EQ(r.failure_total, std::uint64_t(kShortThreads));
  EXPECT_DOUBLE_EQ(s.error_rate, 0.5);
  // Every exited thread's statistics are in the breakdown, none dropped.
  EXPECT_EQ(function_named(r, "short_lived_ok")->finished, std::uint64_t(kShortThreads));
  EXPECT_EQ(function_named(r, "short_lived_fails")->failed, std::uint64_t(kShortThreads));
  EXPECT_EQ(s.unattributed, 0u);
  EXPECT_EQ(r.drops["site_statistics"], 0u);
  // The threads at once, the reader, and slack for a thread whose record
  // is given back only after join() returned.
  EXPECT_LE(coroscope::detail::thread_records_for_testing(), records_before + 2 * kAtOnce + 1);
}

} // namespace
