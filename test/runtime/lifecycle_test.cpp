// Lifecycle states, parents, names, sites and async stacks, through the
// public hand-instrumentation macros.
#include "support.hpp"
#include "test_util.hpp"

#include <coro_test/tasks.h>

#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

using namespace coroscope_test;
namespace report = coroscope::report;

namespace {

task<int> doubled(int v) {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(v * 2);
}

unsigned first_await_line, second_await_line;

task<int> sum_of_doubles() {
  COROSCOPE_CORO();
  first_await_line = __LINE__; int a = COROSCOPE_AWAIT(doubled(1));
  second_await_line = __LINE__; int b = COROSCOPE_AWAIT(doubled(2));
  COROSCOPE_RETURN(a + b);
}

TEST_F(RuntimeTest, FinishedCoroutinesAreCountedPerFunctionAndSite) {
  auto t = sum_of_doubles();
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), 6);

  report::report r = coroscope::detail::make_report();
  const auto *parent = function_named(r, "sum_of_doubles");
  const auto *child = function_named(r, "doubled");
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(parent->started, 1u);
  EXPECT_EQ(parent->finished, 1u);
  EXPECT_EQ(parent->suspensions, 2u);
  EXPECT_EQ(child->started, 2u);
  EXPECT_EQ(child->finished, 2u);
  EXPECT_EQ(child->failed + child->cancelled, 0u);
  EXPECT_EQ(parent->duration.count, 1u);

  const auto *first = site_at(r, first_await_line);
  const auto *second = site_at(r, second_await_line);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->kind, "await");
  EXPECT_EQ(first->count, 1u);
  EXPECT_EQ(first->wait.count, 1u);
  EXPECT_EQ(first->step.count, 1u);
  EXPECT_EQ(first->at.function, "sum_of_doubles");
  EXPECT_TRUE(r.live.empty());
  EXPECT_EQ(r.live_running + r.live_suspended, 0u);
}

task<int> throws_captured() {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    COROSCOPE_AWAIT(std::suspend_never{});
    throw std::runtime_error("disk on fire");
  }
  COROSCOPE_CATCH
}

task<int> throws_uncaptured() {
  COROSCOPE_CORO();
  throw std::logic_error("no catch block");
  COROSCOPE_RETURN(0);
}

unsigned catcher_line;

task<int> awaits_failing_child() {
  COROSCOPE_CORO();
  try {
    catcher_line = __LINE__; co_return COROSCOPE_AWAIT(throws_captured());
  } catch (const std::runtime_error &) {
  }
  COROSCOPE_RETURN(-1);
}

TEST_F(RuntimeTest, FailuresRecordTypeMessageLastSiteAndParents) {
  auto t = awaits_failing_child();
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), -1);

  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.failures.size(), 1u);
  const report::coroutine &failure = r.failures[0];
  EXPECT_EQ(failure.body.function, "throws_captured");
  EXPECT_EQ(failure.state, "failed");
  EXPECT_EQ(failure.exception_type, "std::runtime_error");
  EXPECT_EQ(failure.exception_what, "disk on fire");
  EXPECT_GT(failure.site.line, failure.body.line) << "the last site is the await";
  ASSERT_EQ(failure.parents.size(), 1u);
  EXPECT_NE(failure.parents[0].find("awaits_failing_child [suspended] at"), std::string::npos)
      << failure.parents[0];
  EXPECT_NE(failure.parents[0].find(":" + std::to_string(catcher_line)), std::string::npos);
  EXPECT_EQ(function_named(r, "throws_captured")->failed, 1u);
  EXPECT_EQ(function_named(r, "awaits_failing_child")->finished, 1u);
}

TEST_F(RuntimeTest, FailureWithoutCatchBlockIsStillFailed) {
  auto t = throws_uncaptured();
  t.start();
  ASSERT_TRUE(t.failed());
  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].exception_type.find("not captured"), std::string::npos);
  EXPECT_EQ(function_named(r, "throws_uncaptured")->failed, 1u);
}

unsigned child_wait_line, parent_wait_line;

task<> child_waits(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_NAME("the child");
  child_wait_line = __LINE__; COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

task<> parent_waits(event &e) {
  COROSCOPE_CORO();
  parent_wait_line = __LINE__; COROSCOPE_AWAIT(child_waits(e));
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, LiveCoroutinesKnowTheirParentSiteAndName) {
  event e;
  auto t = parent_waits(e);
  t.start();
  ASSERT_FALSE(t.done());

  report::report r = coroscope::detail::make_report();
  const auto *parent = live_named(r, "parent_waits");
  const auto *child = live_named(r, "child_waits");
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->parent, parent->id);
  EXPECT_EQ(child->state, "suspended");
  EXPECT_EQ(child->name, "the child");
  EXPECT_EQ(child->site.line, child_wait_line);
  EXPECT_EQ(parent->site.line, parent_wait_line);
  EXPECT_EQ(r.live_suspended, 2u);

  std::ostringstream stacks;
  coroscope::dump_async_stacks(stacks);
  std::string text = stacks.str();
  EXPECT_NE(text.find("async stacks: 2 live coroutines"), std::string::npos) << text;
  std::regex tree("└── #[0-9]+ parent_waits \\[suspended [^\\]]+\\] at [^\\n]*:" +
                  std::to_string(parent_wait_line) +
                  "[^\\n]*\\n    └── #[0-9]+ child_waits \"the child\" \\[suspended [^\\]]+\\] at "
                  "[^\\n]*:" +
                  std::to_string(child_wait_line));
  EXPECT_TRUE(std::regex_search(text, tree)) << text;

  e.fire();
  EXPECT_TRUE(t.done());
  r = coroscope::detail::make_report();
  EXPECT_TRUE(r.live.empty());
  EXPECT_EQ(function_named(r, "child_waits")->finished, 1u);
}

unsigned spawn_line;

// Creates a child and starts it without awaiting it: its spawn parent.
task<> spawns(event &e, std::optional<task<>> &kept) {
  COROSCOPE_CORO();
  spawn_line = __LINE__; kept.emplace(COROSCOPE_CREATE(child_waits(e)));
  kept->start();
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, SpawnedCoroutinesKnowTheirCreatorAndCreationSite) {
  event e;
  std::optional<task<>> child;
  auto t = spawns(e, child);
  t.start();
  ASSERT_TRUE(t.done());
  ASSERT_FALSE(child->done());

  report::report r = coroscope::detail::make_report();
  const auto *spawned = live_named(r, "child_waits");
  ASSERT_NE(spawned, nullptr);
  EXPECT_NE(spawned->creator, 0u);
  EXPECT_EQ(spawned->creator, spawned->parent); // running when it started
  EXPECT_EQ(spawned->created_at.function, "spawns");
  EXPECT_EQ(spawned->created_at.line, spawn_line);
  // Named after where it was created, and kept through the JSON report.
  std::string json = coroscope::report::to_json(r);
  EXPECT_NE(json.find("\"creator\":" + std::to_string(spawned->creator)), std::string::npos);
  EXPECT_NE(json.find("\"created_at\""), std::string::npos);
  e.fire();
  EXPECT_TRUE(child->done());
}

task<> hops_to_pool(thread_pool &pool, std::atomic<bool> &done) {
  COROSCOPE_CORO();
  coroscope::name_current("hopper");
  COROSCOPE_AWAIT(pool.schedule());
  done = true;
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, ResumptionOnAnotherThreadIsCounted) {
  std::atomic<bool> done{false};
  thread_pool pool(1);
  auto t = hops_to_pool(pool, done);
  t.start();
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  ASSERT_TRUE(eventually([&] { return t.done(); }));
  report::report r = coroscope::detail::make_report();
  const auto *f = function_named(r, "hops_to_pool");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->cross_thread_resumptions, 1u);
  EXPECT_EQ(f->finished, 1u);
}

folly::coro::Task<int> folly_style() {
  COROSCOPE_CORO();
  int v = COROSCOPE_AWAIT(folly::coro::ReadyAwaitable{20});
  COROSCOPE_RETURN(v + 1);
}

TEST_F(RuntimeTest, AwaitPointKeepsTheOperandForAwaitTransform) {
  EXPECT_EQ(folly::coro::blockingWait(folly_style()), 21);
  report::report r = coroscope::detail::make_report();
  ASSERT_NE(function_named(r, "folly_style"), nullptr);
  EXPECT_EQ(function_named(r, "folly_style")->finished, 1u);
}

unsigned loop_line;

task<> awaits_in_a_loop(int n) {
  COROSCOPE_CORO();
  for (int i = 0; i < n; ++i) {
    loop_line = __LINE__; COROSCOPE_AWAIT(std::suspend_never{});
  }
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, SiteHistogramsCountEveryAwait) {
  auto t = awaits_in_a_loop(300);
  t.start();
  report::report r = coroscope::detail::make_report();
  const auto *site = site_at(r, loop_line);
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->count, 300u);
  EXPECT_EQ(site->wait.count, 300u);
  EXPECT_EQ(site->step.count, 300u);
  std::uint64_t in_buckets = 0;
  for (auto [index, n] : site->wait.buckets)
    in_buckets += n;
  EXPECT_EQ(in_buckets, 300u);
  EXPECT_LE(site->wait.percentile(0.5), site->wait.percentile(0.99));
  EXPECT_LE(site->wait.percentile(0.99), site->wait.max_ns);
}

TEST_F(RuntimeTest, DisabledRuntimeRecordsNothing) {
  auto cfg = config();
  cfg.enabled = false;
  reset(cfg);
  EXPECT_FALSE(coroscope::detail::tracking());
  auto t = sum_of_doubles();
  t.start();
  EXPECT_EQ(t.result(), 6);
  report::report r = coroscope::detail::make_report();
  const auto *f = function_named(r, "sum_of_doubles");
  EXPECT_TRUE(f == nullptr || f->started == 0);
  EXPECT_EQ(coroscope::current(), nullptr);
}

} // namespace
