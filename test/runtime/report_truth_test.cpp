// What the reports must get right on real code (issue: instrumentation on
// real libraries): generators abandoned early, failures that propagate
// through awaiters, the awaited-by graph, steps exclusive of the coroutines
// they resume, queueing apart from hangs, names, and percentiles that do not
// pretend to more precision than the histogram has.
#include "support.hpp"
#include "test_util.hpp"

#include <coro_test/tasks.h>

#include <sstream>
#include <stdexcept>

using namespace coroscope_test;
namespace report = coroscope::report;

namespace {

// A test clock that moves only when a coroutine moves it.
class ManualClockTest : public RuntimeTest {
protected:
  void SetUp() override {
    auto cfg = config();
    cfg.clock = "manual";
    cfg.slow_ms = 10;
    cfg.hang_ms = 100;
    reset(cfg);
  }
};

unsigned yield_line;

cppcoro::generator<int> naturals() {
  COROSCOPE_CORO();
  for (int i = 0;; ++i) {
    yield_line = __LINE__; COROSCOPE_YIELD(i);
  }
}

TEST_F(RuntimeTest, GeneratorStoppedAtAYieldIsAbandonedNotCancelled) {
  {
    auto numbers = naturals();
    ASSERT_TRUE(numbers.next());
    ASSERT_TRUE(numbers.next());
  }
  report::report r = coroscope::detail::make_report();
  const auto *f = function_named(r, "naturals");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->abandoned, 1u);
  EXPECT_EQ(f->cancelled, 0u);
  EXPECT_EQ(f->failed, 0u);
  ASSERT_EQ(r.cancelled.size(), 1u);
  EXPECT_EQ(r.cancelled[0].state, "abandoned");
  EXPECT_EQ(r.cancelled[0].site.line, yield_line);
  report::summary s = report::summarize(r);
  EXPECT_EQ(s.error_rate, 0.0);
  EXPECT_EQ(s.success_rate, 1.0);
}

task<> waits_for(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

struct ready_value {
  bool await_ready() noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() noexcept { return 42; }
};

// Two hooks in one full-expression, as `co_yield co_await x` gets them.
cppcoro::generator<int> yields_an_await() {
  COROSCOPE_CORO();
  COROSCOPE_YIELD(COROSCOPE_AWAIT(ready_value{}));
}

// Reduced from libcoro's intermittent SIGSEGV (test_shared_mutex.cpp:198
// ran after a generator like this one): destroyed at its co_yield, the
// generator was left as its thread's running coroutine, and the next
// coroutine took the freed frame for its parent.
TEST_F(RuntimeTest, GeneratorDestroyedAtYieldOfAnAwaitLeavesNoRunningFrame) {
  {
    auto values = yields_an_await();
    ASSERT_TRUE(values.next());
    EXPECT_EQ(values.value(), 42);
  }
  event e;
  auto t = waits_for(e);
  t.start();
  report::report r = coroscope::detail::make_report();
  const report::coroutine *waiting = nullptr;
  for (const auto &c : r.live)
    if (c.body.function == "waits_for")
      waiting = &c;
  ASSERT_NE(waiting, nullptr);
  EXPECT_EQ(waiting->parent, 0u);
  EXPECT_EQ(function_named(r, "yields_an_await")->abandoned, 1u);
  e.fire();
}

TEST_F(RuntimeTest, TaskDestroyedWhileAwaitingIsCancelled) {
  event e;
  {
    auto t = waits_for(e);
    t.start();
    ASSERT_FALSE(t.done());
  }
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(function_named(r, "waits_for")->cancelled, 1u);
  EXPECT_EQ(function_named(r, "waits_for")->abandoned, 0u);
  ASSERT_EQ(r.cancelled.size(), 1u);
  EXPECT_EQ(r.cancelled[0].state, "cancelled");
}

unsigned throw_line, middle_line, top_line;

task<int> innermost() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    throw_line = __LINE__; throw std::runtime_error("disk on fire");
  }
  COROSCOPE_CATCH
}

task<int> middle() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    middle_line = __LINE__; int v = COROSCOPE_AWAIT(innermost());
    COROSCOPE_RETURN(v + 1);
  }
  COROSCOPE_CATCH
}

task<int> top() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    top_line = __LINE__; int v = COROSCOPE_AWAIT(middle());
    COROSCOPE_RETURN(v + 1);
  }
  COROSCOPE_CATCH
}

TEST_F(RuntimeTest, FailureThroughThreeFramesIsReportedOnceWithItsPath) {
  auto t = top();
  t.start();
  ASSERT_TRUE(t.failed());
  report::report r = coroscope::detail::make_report();
  // Each frame failed, but it is one failure.
  EXPECT_EQ(function_named(r, "innermost")->failed, 1u);
  EXPECT_EQ(function_named(r, "middle")->failed, 1u);
  EXPECT_EQ(function_named(r, "top")->failed, 1u);
  EXPECT_EQ(r.failure_total, 1u);
  ASSERT_EQ(r.failures.size(), 1u);
  const report::coroutine &f = r.failures[0];
  EXPECT_EQ(f.body.function, "innermost");
  EXPECT_EQ(f.exception_type, "std::runtime_error");
  ASSERT_EQ(f.propagated_to.size(), 2u);
  EXPECT_EQ(f.propagated_to[0].rfind("middle", 0), 0u) << f.propagated_to[0];
  EXPECT_NE(f.propagated_to[0].find(":" + std::to_string(middle_line)), std::string::npos)
      << f.propagated_to[0];
  EXPECT_EQ(f.propagated_to[1].rfind("top", 0), 0u) << f.propagated_to[1];
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_NE(out.str().find("3 failed (1 failure)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("propagated to middle"), std::string::npos) << out.str();
}

task<int> recovers_from_child() {
  COROSCOPE_CORO();
  int v = -1;
  try {
    v = COROSCOPE_AWAIT(innermost());
  } catch (const std::runtime_error &) {
  }
  // A failure of its own later is a new failure, not the child's.
  COROSCOPE_TRY {
    if (v < 0)
      throw std::logic_error("second");
  }
  COROSCOPE_CATCH
  COROSCOPE_RETURN(v);
}

TEST_F(RuntimeTest, AwaiterThatCatchesAndFailsLaterIsASecondFailure) {
  auto t = recovers_from_child();
  t.start();
  ASSERT_TRUE(t.failed());
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.failure_total, 2u);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_TRUE(r.failures[0].propagated_to.empty());
  EXPECT_EQ(r.failures[1].exception_type, "std::logic_error");
}

task<int> leaf_value(int v) {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(v);
}

fire_and_forget spawned_leaf(int v) {
  COROSCOPE_CORO();
  (void)v;
  COROSCOPE_RETURN();
}

task<int> awaits_two_spawns_one() {
  COROSCOPE_CORO();
  int a = COROSCOPE_AWAIT(leaf_value(1));
  int b = COROSCOPE_AWAIT(leaf_value(2));
  spawned_leaf(3);
  COROSCOPE_RETURN(a + b);
}

TEST_F(RuntimeTest, FunctionsCarryTheAwaitedByGraph) {
  auto t = awaits_two_spawns_one();
  t.start();
  ASSERT_TRUE(t.done());
  report::report r = coroscope::detail::make_report();
  const auto *leaf = function_named(r, "leaf_value");
  ASSERT_NE(leaf, nullptr);
  ASSERT_EQ(leaf->awaited_by.size(), 1u);
  EXPECT_EQ(leaf->awaited_by[0].function.function, "awaits_two_spawns_one");
  EXPECT_EQ(leaf->awaited_by[0].count, 2u);
  EXPECT_TRUE(leaf->spawned_by.empty());
  const auto *spawned = function_named(r, "spawned_leaf");
  ASSERT_NE(spawned, nullptr);
  EXPECT_TRUE(spawned->awaited_by.empty());
  ASSERT_EQ(spawned->spawned_by.size(), 1u);
  EXPECT_EQ(spawned->spawned_by[0].function.function, "awaits_two_spawns_one");
  EXPECT_EQ(spawned->spawned_by[0].count, 1u);
}

unsigned start_line;

task<> waits_unnamed(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

task<> starts_unnamed(event &e) {
  COROSCOPE_CORO();
  start_line = __LINE__; COROSCOPE_AWAIT(waits_unnamed(e));
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, UnnamedCoroutinesAreNamedByWhereTheyStarted) {
  event e;
  auto t = starts_unnamed(e);
  t.start();
  report::report r = coroscope::detail::make_report();
  const auto *child = live_named(r, "waits_unnamed");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->name, "from report_truth_test.cpp:" + std::to_string(start_line));
  e.fire();
}

// The setter resumes the waiter inside its own step: that time is the
// waiter's, not the setter's.
task<> waiter_runs_long(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  advance_ms(50);
  COROSCOPE_RETURN();
}

task<> setter(event &e) {
  COROSCOPE_CORO();
  advance_ms(1);
  e.fire();
  advance_ms(2);
  COROSCOPE_RETURN();
}

TEST_F(ManualClockTest, StepsExcludeTheCoroutinesTheyResume) {
  event e;
  auto waiter = waiter_runs_long(e);
  waiter.start();
  auto t = setter(e);
  t.start();
  ASSERT_TRUE(waiter.done());
  ASSERT_TRUE(t.done());
  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.slow_step_total, 1u);
  ASSERT_EQ(r.slow_steps.size(), 1u);
  EXPECT_EQ(r.slow_steps[0].from.function, "waiter_runs_long");
  EXPECT_EQ(r.slow_steps[0].duration_ns, 50'000'000u);
  const auto *s = function_named(r, "setter");
  EXPECT_EQ(s->running_ns, 3'000'000u);
  EXPECT_EQ(s->slow_steps, 0u);
}

task<> queued_behind_others(event &turn) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT_SCHEDULE(turn);
  COROSCOPE_RETURN();
}

task<> child_that_is_not_tracked(event &e) {
  COROSCOPE_CORO();
  // Marked as awaiting a child, but no tracked coroutine starts here: the
  // long wait is this coroutine's own.
  COROSCOPE_AWAIT_CHILD(e);
  COROSCOPE_RETURN();
}

TEST_F(ManualClockTest, QueueingIsNotAHangAndAChildSiteWithoutAChildIs) {
  event turn, e;
  auto queued = queued_behind_others(turn);
  queued.start();
  auto lone = child_that_is_not_tracked(e);
  lone.start();
  advance_ms(500);
  turn.fire();
  e.fire();
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.queued_total, 1u);
  ASSERT_EQ(r.queued.size(), 1u);
  EXPECT_EQ(r.queued[0].waits_for, "schedule");
  EXPECT_EQ(r.queued[0].worst.body.function, "queued_behind_others");
  EXPECT_EQ(r.hang_total, 1u);
  ASSERT_EQ(r.hangs.size(), 1u);
  EXPECT_EQ(r.hangs[0].worst.body.function, "child_that_is_not_tracked");
  EXPECT_EQ(r.hangs[0].waits_for, "child");
}

task<> delay_made_of_events(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e); // an event wait, but inside a delay
  COROSCOPE_RETURN();
}

task<> sleeper(event &timer, event &inner) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT_TIMER(timer);
  // What the instrumentation writes for libcoro's yield_for (a timer task).
  co_await((void)::coroscope::await_point(
               coroscope_frame_, COROSCOPE_SITE_(await, ::coroscope::awaits::timer_task)),
           delay_made_of_events(inner));
  COROSCOPE_RETURN();
}

TEST_F(ManualClockTest, DelaysAndTheCoroutinesThatMakeThemAreNotHangs) {
  event timer, inner;
  auto t = sleeper(timer, inner);
  t.start();
  advance_ms(500);
  timer.fire();
  advance_ms(500);
  inner.fire();
  ASSERT_TRUE(t.done());
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.hang_total, 0u);
  EXPECT_EQ(r.queued_total, 0u);
  std::vector<std::string> waits_for;
  for (const auto &site : r.sites)
    if (site.at.function == "sleeper")
      waits_for.push_back(site.waits_for);
  EXPECT_EQ(waits_for, (std::vector<std::string>{"timer", "timer"}));
  // The same event wait outside a delay is a hang.
  event e;
  auto control = delay_made_of_events(e);
  control.start();
  advance_ms(500);
  e.fire();
  EXPECT_EQ(coroscope::detail::make_report().hang_total, 1u);
}

// What the plugin's IR pass calls for a coroutine destroyed at its initial
// suspend point (test/plugin/never-started.test builds real ones).
constexpr coroscope::site lazy_body{"lazy", "lazy.cpp", 3, 1, coroscope::site_kind::body};
constexpr coroscope::site other_body{"other", "other.cpp", 9, 1, coroscope::site_kind::body};

TEST_F(RuntimeTest, NeverStartedCoroutinesAreCountedAndLoggedOncePerFunction) {
  testing::internal::CaptureStderr();
  coroscope_never_started(&lazy_body);
  coroscope_never_started(&lazy_body);
  coroscope_never_started(&other_body);
  coroscope_never_started(nullptr);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "coroscope: never started: a coroutine of 'lazy' (lazy.cpp:3:1) was destroyed "
                 "before its body ran; a lazy task that is never awaited does nothing\n"
                 "coroscope: never started: a coroutine of 'other' (other.cpp:9:1) was destroyed "
                 "before its body ran; a lazy task that is never awaited does nothing\n");
  report::report r = coroscope::detail::make_report();
  ASSERT_NE(function_named(r, "lazy"), nullptr);
  EXPECT_EQ(function_named(r, "lazy")->never_started, 2u);
  EXPECT_EQ(function_named(r, "lazy")->started, 0u);
  EXPECT_EQ(report::summarize(r).never_started, 3u);
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_NE(out.str().find("coroscope: never started: 3 coroutines destroyed before their body ran "
                           "(lazy tasks never awaited): 2 of 'lazy' (lazy.cpp:3:1), 1 of 'other' "
                           "(other.cpp:9:1)\n"),
            std::string::npos)
      << out.str();
}

task<> parked(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

TEST_F(ManualClockTest, HangsAreAggregatedPerSiteWithTheWorstAndTotals) {
  event e;
  std::vector<task<>> tasks;
  for (int i = 0; i < 50; ++i) {
    tasks.push_back(parked(e));
    tasks.back().start();
    advance_ms(10); // each waits 10 ms less than the one before
  }
  advance_ms(200);
  e.fire();
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.hang_total, 50u);
  ASSERT_EQ(r.hangs.size(), 1u);
  EXPECT_EQ(r.hangs[0].count, 50u);
  EXPECT_EQ(r.hangs[0].resolved, 50u);
  EXPECT_EQ(r.hangs[0].worst_ns, 700'000'000u);
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_NE(out.str().find("coroscope: hangs: 50 waits over 100.0 ms suspended at 1 site"),
            std::string::npos)
      << out.str();
}

task<int> fails_unseen() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    throw std::runtime_error("unseen");
  }
  COROSCOPE_CATCH
}

task<int> finishes_unseen() {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(COROSCOPE_AWAIT(ready_value{}));
}

// Reduced from a suite whose summary said 9 failed coroutines while the
// report held 467 failures: the summary counted per-function statistics,
// whose blocks had run out.
TEST_F(RuntimeTest, TotalsStayExactWhenStatisticsBlocksRunOut) {
  auto cfg = config();
  cfg.max_site_blocks = 0; // every statistics block is dropped
  reset(cfg);
  for (int i = 0; i < 4; ++i) {
    auto t = finishes_unseen();
    t.start();
  }
  for (int i = 0; i < 3; ++i) {
    auto t = fails_unseen();
    t.start();
    ASSERT_TRUE(t.failed());
  }
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(function_named(r, "finishes_unseen"), nullptr);
  EXPECT_EQ(function_named(r, "fails_unseen"), nullptr);
  EXPECT_GT(r.drops["site_statistics"], 0u);
  ASSERT_TRUE(r.exact.known);
  report::summary s = report::summarize(r);
  EXPECT_EQ(s.started, 7u);
  EXPECT_EQ(s.finished, 4u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.unattributed, 7u);
  EXPECT_DOUBLE_EQ(s.error_rate, 3.0 / 7.0);
  EXPECT_EQ(r.failure_total, 3u);
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_NE(out.str().find("coroscope: 7 coroutines in "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(": 4 finished, 3 failed (3 failures)"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("coroscope: the statistics by function and site are partial: 7 "
                           "coroutines of 7 not counted there"),
            std::string::npos)
      << out.str();
  // Two processes' reports merge to the sum of their exact totals.
  report::report merged = report::merge({r, r});
  report::summary both = report::summarize(merged);
  EXPECT_EQ(both.started, 14u);
  EXPECT_EQ(both.failed, 6u);
  EXPECT_EQ(both.unattributed, 14u);
}

TEST_F(RuntimeTest, TotalsAgreeWithTheStatisticsWhenNothingDrops) {
  for (int i = 0; i < 2; ++i) {
    auto t = finishes_unseen();
    t.start();
  }
  auto t = fails_unseen();
  t.start();
  report::report r = coroscope::detail::make_report();
  report::summary s = report::summarize(r);
  EXPECT_EQ(s.started, 3u);
  EXPECT_EQ(function_named(r, "finishes_unseen")->finished, 2u);
  EXPECT_EQ(function_named(r, "fails_unseen")->failed, 1u);
  EXPECT_EQ(s.unattributed, 0u);
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_EQ(out.str().find("partial"), std::string::npos) << out.str();
}

TEST(Percentiles, ABucketIsPrintedAsARangeNotAsOneValue) {
  report::histogram h;
  // 1000 waits spread between 16.8 s and 18.8 s: the median's bucket holds
  // 2^34 ns (17.18 s) up to the largest.
  for (std::uint64_t i = 0; i < 1000; ++i) {
    std::uint64_t ns = 16'800'000'000 + i * 2'000'000;
    h.count += 1;
    h.sum_ns += ns;
    h.buckets[coroscope::detail::bucket_of(ns)] += 1;
    h.max_ns = std::max(h.max_ns, ns);
    h.min_ns = h.count == 1 ? ns : std::min(h.min_ns, ns);
  }
  report::histogram::range p50 = h.percentile_range(0.5);
  EXPECT_LE(p50.low, 17'800'000'000u);
  EXPECT_GE(p50.high, 17'800'000'000u);
  EXPECT_EQ(report::percentile_text(h, 0.5), "17.18-18.80 s");
  // A histogram of one value is exact.
  report::histogram one;
  one.count = 1;
  one.sum_ns = one.min_ns = one.max_ns = 1234;
  one.buckets[coroscope::detail::bucket_of(1234)] = 1;
  EXPECT_EQ(report::percentile_text(one, 0.99), "1.2 us");
}

TEST(Summary, LongLambdaNamesKeepTheirLocation) {
  report::report r;
  report::function_stats f;
  f.body.function = "some_long_namespace::outer_function::(lambda at test_ring_buffer.cpp:365:22)";
  f.started = 1;
  f.finished = 1;
  r.functions.push_back(f);
  std::ostringstream out;
  report::render_summary(r, out);
  EXPECT_NE(out.str().find("(lambda at test_ring_buffer.cpp:365:22)"), std::string::npos)
      << out.str();
}

} // namespace
