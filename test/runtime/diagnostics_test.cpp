// Slow steps, stalls seen by the watchdog, hangs, long waits and the
// environment. Slow steps are timed on the manual clock, so a loaded
// machine cannot make a fast step slow; elsewhere durations only ever
// exceed a threshold by construction (a sleep longer than it). No test
// asserts how long anything took.
#include "support.hpp"
#include "test_util.hpp"

#include <map>
#include <thread>

using namespace coroscope_test;
namespace report = coroscope::report;
using std::chrono::milliseconds;

namespace {

unsigned slow_from_line, slow_to_line;

task<> has_a_slow_region() {
  COROSCOPE_CORO();
  slow_from_line = __LINE__; COROSCOPE_AWAIT(std::suspend_never{});
  advance_ms(40);
  slow_to_line = __LINE__; COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, SlowStepIsLoggedOnceWithItsRegion) {
  auto cfg = config();
  cfg.clock = "manual";
  cfg.slow_ms = 20;
  reset(cfg);
  testing::internal::CaptureStderr();
  auto t = has_a_slow_region();
  t.start();
  std::string err = testing::internal::GetCapturedStderr();

  EXPECT_EQ(count_lines(err, "coroscope: slow step:"), 1) << err;
  EXPECT_NE(err.find("'has_a_slow_region' (coroutine #"), std::string::npos) << err;
  EXPECT_NE(err.find("without suspending, from "), std::string::npos) << err;
  EXPECT_NE(err.find(":" + std::to_string(slow_from_line) + " to "), std::string::npos) << err;
  EXPECT_NE(err.find(":" + std::to_string(slow_to_line) + ", on thread "), std::string::npos)
      << err;

  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.slow_step_total, 1u);
  ASSERT_EQ(r.slow_steps.size(), 1u);
  EXPECT_EQ(r.slow_steps[0].from.line, slow_from_line);
  EXPECT_EQ(r.slow_steps[0].to.line, slow_to_line);
  EXPECT_GE(r.slow_steps[0].duration_ns, 20'000'000u);
  EXPECT_FALSE(r.slow_steps[0].in_progress);
  EXPECT_EQ(function_named(r, "has_a_slow_region")->slow_steps, 1u);
}

task<> many_slow_steps(int n) {
  COROSCOPE_CORO();
  for (int i = 0; i < n; ++i) {
    advance_ms(2);
    COROSCOPE_AWAIT(std::suspend_never{});
  }
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, SlowStepLogsAreRateLimitedAndCounted) {
  auto cfg = config();
  cfg.clock = "manual";
  cfg.slow_ms = 1;
  reset(cfg);
  testing::internal::CaptureStderr();
  auto t = many_slow_steps(25);
  t.start();
  std::string err = testing::internal::GetCapturedStderr();
  report::report r = coroscope::detail::make_report();
  int printed = count_lines(err, "coroscope: slow step:");
  EXPECT_EQ(r.slow_step_total, 25u);
  EXPECT_EQ(printed + int(r.drops["log_lines"]), 25) << err;
  EXPECT_GT(r.drops["log_lines"], 0u) << "25 reports in well under two seconds";
}

std::atomic<bool> stall_seen{false};

task<> stalls_until_seen() {
  COROSCOPE_CORO();
  // The step runs until the watchdog has reported it.
  eventually([] { return stall_seen.load(); });
  COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, WatchdogReportsAStepStillRunning) {
  auto cfg = config();
  cfg.slow_ms = 10;
  cfg.watchdog = true;
  reset(cfg);
  testing::internal::CaptureStderr();
  std::thread observer([] {
    eventually([] {
      auto r = coroscope::detail::make_report();
      for (const auto &s : r.slow_steps)
        if (s.in_progress)
          return true;
      return false;
    });
    stall_seen = true;
  });
  auto t = stalls_until_seen();
  t.start();
  observer.join();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("coroscope: stall: 'stalls_until_seen' (coroutine #"), std::string::npos)
      << err;
  EXPECT_NE(err.find("without suspending, since "), std::string::npos) << err;
  report::report r = coroscope::detail::make_report();
  // The record seen in progress becomes the finished step: counted once.
  EXPECT_EQ(r.slow_step_total, 1u);
  ASSERT_EQ(r.slow_steps.size(), 1u);
  EXPECT_FALSE(r.slow_steps[0].in_progress);
}

task<> waits_forever(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

unsigned hang_parent_line;

task<> hang_parent(event &e) {
  COROSCOPE_CORO();
  hang_parent_line = __LINE__; COROSCOPE_AWAIT(waits_forever(e));
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, WatchdogReportsHangsWithTheirAwaitChain) {
  auto cfg = config();
  cfg.hang_ms = 10;
  cfg.watchdog = true;
  reset(cfg);
  testing::internal::CaptureStderr();
  event e;
  auto t = hang_parent(e);
  t.start();
  // The worst wait is recorded after its line is written.
  ASSERT_TRUE(eventually([] {
    report::report r = coroscope::detail::make_report();
    return !r.hangs.empty() && !r.hangs[0].worst.body.function.empty();
  }));
  // Time for the watchdog to look at the parent too: its wait is the child's.
  std::this_thread::sleep_for(milliseconds(50));
  std::string err = testing::internal::GetCapturedStderr();

  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.hangs.size(), 1u);
  const report::long_waits &child = r.hangs[0];
  EXPECT_EQ(child.worst.body.function, "waits_forever");
  EXPECT_EQ(child.waits_for, "event");
  EXPECT_EQ(child.count, 1u);
  EXPECT_EQ(child.resolved, 0u);
  ASSERT_EQ(child.worst.parents.size(), 1u);
  EXPECT_NE(child.worst.parents[0].find("hang_parent [suspended] at"), std::string::npos);
  EXPECT_NE(child.worst.parents[0].find(":" + std::to_string(hang_parent_line)),
            std::string::npos);
  EXPECT_NE(err.find("coroscope: hang: 'waits_forever"), std::string::npos) << err;
  EXPECT_NE(err.find("  #1 hang_parent"), std::string::npos) << err;
  EXPECT_EQ(err.find("hang: 'hang_parent"), std::string::npos) << err;

  e.fire();
  ASSERT_TRUE(t.done());
  r = coroscope::detail::make_report();
  EXPECT_EQ(r.hang_total, 1u);
  ASSERT_EQ(r.hangs.size(), 1u);
  EXPECT_EQ(r.hangs[0].count, 1u);
  EXPECT_EQ(r.hangs[0].resolved, 1u);
}

TEST_F(RuntimeTest, LongWaitIsAHangEvenWithoutTheWatchdog) {
  auto cfg = config();
  cfg.hang_ms = 5;
  reset(cfg);
  event e;
  auto t = waits_forever(e);
  t.start();
  std::this_thread::sleep_for(milliseconds(20));
  e.fire();
  ASSERT_TRUE(t.done());
  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.hangs.size(), 1u);
  EXPECT_EQ(r.hangs[0].count, 1u);
  EXPECT_EQ(r.hangs[0].resolved, 1u);
  EXPECT_GE(r.hangs[0].worst_ns, 5'000'000u);
  EXPECT_EQ(r.hangs[0].worst.body.function, "waits_forever");
}

// More waiting parents than the runtime's hashed table of adoptions has
// slots: a parent's wait is still its child's, whether the watchdog sees it
// (a live child) or it ends first (the child that ended resumed it).
constexpr int kManyParents = 5000;

std::vector<task<>> start_parents(event &e) {
  std::vector<task<>> parents;
  for (int i = 0; i < kManyParents; ++i) {
    parents.push_back(hang_parent(e));
    parents.back().start();
  }
  return parents;
}

void expect_only_the_children_hung() {
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.hang_total, std::uint64_t(kManyParents));
  ASSERT_EQ(r.hangs.size(), 1u);
  EXPECT_EQ(r.hangs[0].worst.body.function, "waits_forever");
  EXPECT_EQ(r.hangs[0].resolved, std::uint64_t(kManyParents));
}

TEST_F(RuntimeTest, ParentsSeenByTheWatchdogWaitForTheirChildren) {
  auto cfg = config();
  cfg.hang_ms = 10;
  cfg.watchdog = true;
  reset(cfg);
  testing::internal::CaptureStderr();
  event e;
  auto parents = start_parents(e);
  // The scan that counts the last child looks at every parent too.
  ASSERT_TRUE(eventually(
      [] { return coroscope::detail::make_report().hang_total >= std::uint64_t(kManyParents); }));
  e.fire();
  for (auto &t : parents)
    ASSERT_TRUE(t.done());
  testing::internal::GetCapturedStderr();
  expect_only_the_children_hung();
}

TEST_F(RuntimeTest, ParentsResumedByTheirChildrenWaitedForThem) {
  auto cfg = config();
  cfg.hang_ms = 5;
  reset(cfg);
  event e;
  auto parents = start_parents(e);
  std::this_thread::sleep_for(milliseconds(20));
  e.fire();
  for (auto &t : parents)
    ASSERT_TRUE(t.done());
  expect_only_the_children_hung();
}

TEST(Config, ReadsEveryVariable) {
  std::map<std::string, std::string> env = {
      {"COROSCOPE", "on"},          {"COROSCOPE_SLOW_MS", "12.5"},
      {"COROSCOPE_HANG_MS", "900"}, {"COROSCOPE_WATCHDOG", "1"},
      {"COROSCOPE_SIGNAL", "yes"},  {"COROSCOPE_SUMMARY", "true"},
      {"COROSCOPE_REPORT", "r.json"}, {"COROSCOPE_TRACE", "t.json"},
      {"COROSCOPE_CLOCK", "steady"}, {"COROSCOPE_MAX_RECORDS", "7"},
      {"COROSCOPE_TRACE_EVENTS", "4096"}, {"COROSCOPE_MAX_SITES", "99"}};
  std::vector<std::string> warnings;
  auto cfg = read_config_from(env, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(cfg.enabled);
  EXPECT_DOUBLE_EQ(cfg.slow_ms, 12.5);
  EXPECT_DOUBLE_EQ(cfg.hang_ms, 900);
  EXPECT_TRUE(cfg.watchdog);
  EXPECT_TRUE(cfg.signal);
  EXPECT_TRUE(cfg.summary);
  EXPECT_EQ(cfg.report_path, "r.json");
  EXPECT_EQ(cfg.trace_path, "t.json");
  EXPECT_EQ(cfg.clock, "steady");
  EXPECT_EQ(cfg.max_records, 7u);
  EXPECT_EQ(cfg.max_trace_events, 4096u);
  EXPECT_EQ(cfg.max_site_blocks, 99u);
}

TEST(Config, BadValuesWarnOnceEachAndKeepDefaults) {
  std::map<std::string, std::string> env = {
      {"COROSCOPE", "maybe"},         {"COROSCOPE_SLOW_MS", "fast"},
      {"COROSCOPE_HANG_MS", "-3"},    {"COROSCOPE_WATCHDOG", "2"},
      {"COROSCOPE_CLOCK", "sundial"}, {"COROSCOPE_MAX_RECORDS", "-1"}};
  std::vector<std::string> warnings;
  auto cfg = read_config_from(env, warnings);
  coroscope::detail::config defaults;
  EXPECT_EQ(cfg.enabled, defaults.enabled);
  EXPECT_EQ(cfg.slow_ms, defaults.slow_ms);
  EXPECT_EQ(cfg.hang_ms, defaults.hang_ms);
  EXPECT_EQ(cfg.watchdog, defaults.watchdog);
  EXPECT_EQ(cfg.clock, defaults.clock);
  EXPECT_EQ(cfg.max_records, defaults.max_records);
  ASSERT_EQ(warnings.size(), env.size());
  for (const std::string &w : warnings) {
    EXPECT_EQ(w.rfind("coroscope: warning: COROSCOPE", 0), 0u) << w;
    EXPECT_EQ(w.find('\n'), std::string::npos) << w;
  }
  EXPECT_EQ(warnings[0], "coroscope: warning: COROSCOPE='maybe' is not 0/1/on/off; using 1");
  EXPECT_EQ(warnings[1], "coroscope: warning: COROSCOPE_SLOW_MS='fast' is not a positive "
                         "number of milliseconds; using 100");
}

} // namespace
