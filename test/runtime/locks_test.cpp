// Run-time lock tracking: held sets that move with their coroutine, locks
// held across suspensions and released on other threads, lock-order cycles
// that never deadlocked, deadlocks named by the watchdog, and statistics.
// Hold and wait times run on the manual clock where a test checks them.
#include "support.hpp"
#include "test_util.hpp"

#include <coroutine>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

using namespace coroscope_test;
namespace report = coroscope::report;

namespace {

const report::lock_class_stats *lock_named(const report::report &r, std::string_view name) {
  for (const auto &c : r.locks.classes)
    if (c.name == name)
      return &c;
  return nullptr;
}

// Every hold is timed, so that the statistics are exact.
class LocksTest : public RuntimeTest {
protected:
  void SetUp() override { reset(config()); }
  static coroscope::detail::config config() {
    auto cfg = RuntimeTest::config();
    cfg.lock_sample = 1;
    return cfg;
  }
};

// --- held across a suspension, released on another thread ------------------

spin_mutex store_mu;
unsigned hop_acquire_line, hop_suspend_line;

task<> holds_across_hop(thread_pool &pool, std::atomic<bool> &done) {
  COROSCOPE_CORO();
  hop_acquire_line = __LINE__; COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, g, store_mu, "Store::mu_");
  hop_suspend_line = __LINE__; COROSCOPE_AWAIT_SCHEDULE(pool.schedule());
  done = true;
  COROSCOPE_RETURN();
}

TEST_F(LocksTest, HeldAcrossASuspensionAndReleasedOnAnotherThread) {
  testing::internal::CaptureStderr();
  std::atomic<bool> done{false};
  std::optional<thread_pool> pool(std::in_place, 1);
  auto t = holds_across_hop(*pool, done);
  t.start();
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  pool.reset(); // the coroutine has ended on the pool's thread
  std::string err = testing::internal::GetCapturedStderr();
  report::report r = coroscope::detail::make_report();

  ASSERT_EQ(r.locks.held_across_suspension.size(), 1u);
  const report::lock_held_across &h = r.locks.held_across_suspension[0];
  EXPECT_EQ(h.lock, "Store::mu_");
  EXPECT_EQ(h.check, "coro-lock-across-suspend");
  EXPECT_EQ(h.acquired_at.line, hop_acquire_line);
  EXPECT_EQ(h.suspended_at.line, hop_suspend_line);
  EXPECT_EQ(h.suspended_at.function, "holds_across_hop");
  EXPECT_EQ(h.count, 1u);
  EXPECT_EQ(h.other_thread, 1u);
  EXPECT_NE(h.coroutine.find("holds_across_hop (coroutine "), std::string::npos) << h.coroutine;

  ASSERT_EQ(r.locks.released_on_other_thread.size(), 1u);
  const report::lock_foreign_release &f = r.locks.released_on_other_thread[0];
  EXPECT_EQ(f.lock, "Store::mu_");
  EXPECT_EQ(f.acquired_at.line, hop_acquire_line);
  EXPECT_NE(f.acquired_thread, f.released_thread);
  EXPECT_EQ(f.count, 1u);

  EXPECT_NE(err.find("was held while holds_across_hop (coroutine"), std::string::npos) << err;
  EXPECT_NE(err.find("[coro-lock-across-suspend]"), std::string::npos) << err;
  EXPECT_NE(err.find("undefined behaviour for a mutex"), std::string::npos) << err;
  EXPECT_EQ(r.locks.unmatched_releases, 0u);
}

// An async mutex is made to be held across suspensions and released on
// any thread: nothing to report.
async_mutex cache_m;

task<> holds_async_lock(thread_pool &pool, std::atomic<bool> &done) {
  COROSCOPE_CORO();
  COROSCOPE_ASYNC_LOCK_GUARD(g, cache_m, "Cache::m_", cache_m.scoped_lock());
  COROSCOPE_AWAIT_SCHEDULE(pool.schedule());
  done = true;
  COROSCOPE_RETURN();
}

TEST_F(LocksTest, AnAsyncLockMayBeHeldAcrossSuspensions) {
  std::atomic<bool> done{false};
  std::optional<thread_pool> pool(std::in_place, 1);
  auto t = holds_async_lock(*pool, done);
  t.start();
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  pool.reset(); // the coroutine has ended on the pool's thread
  report::report r = coroscope::detail::make_report();
  EXPECT_TRUE(r.locks.held_across_suspension.empty());
  EXPECT_TRUE(r.locks.released_on_other_thread.empty());
  const report::lock_class_stats *c = lock_named(r, "Cache::m_");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "async");
  EXPECT_EQ(c->acquisitions, 1u);
  EXPECT_EQ(c->hold.count, 1u);
}

// --- a lock-order cycle that never deadlocked ------------------------------

// Spin locks, not std::mutex: ThreadSanitizer would rightly report these
// inversions in the test itself.
spin_mutex accounts_mu, audit_mu;
unsigned transfer_line, audit_line;

task<> transfer() {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, accounts_mu, "Bank::accounts_");
  transfer_line = __LINE__; COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, audit_mu, "Bank::audit_");
  COROSCOPE_RETURN();
}

task<> audit() {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, audit_mu, "Bank::audit_");
  audit_line = __LINE__; COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, accounts_mu, "Bank::accounts_");
  COROSCOPE_RETURN();
}

TEST_F(LocksTest, OrderCycleBetweenTwoCoroutinesOnTwoThreadsIsReportedOnce) {
  testing::internal::CaptureStderr();
  // One after the other: the run never deadlocks, the orders still conflict.
  std::thread([] {
    for (int i = 0; i < 3; ++i) {
      auto t = transfer();
      t.start();
    }
  }).join();
  std::thread([] {
    for (int i = 0; i < 3; ++i) {
      auto t = audit();
      t.start();
    }
  }).join();
  std::string err = testing::internal::GetCapturedStderr();
  report::report r = coroscope::detail::make_report();

  ASSERT_EQ(r.locks.cycles.size(), 1u);
  const report::lock_cycle &cycle = r.locks.cycles[0];
  ASSERT_EQ(cycle.orders.size(), 2u);
  const report::lock_order *accounts_first = nullptr, *audit_first = nullptr;
  for (const report::lock_order &o : cycle.orders)
    (o.first == "Bank::accounts_" ? accounts_first : audit_first) = &o;
  ASSERT_NE(accounts_first, nullptr);
  ASSERT_NE(audit_first, nullptr);
  EXPECT_EQ(accounts_first->second, "Bank::audit_");
  EXPECT_EQ(accounts_first->second_at.line, transfer_line);
  EXPECT_NE(accounts_first->holder.find("transfer (coroutine "), std::string::npos);
  EXPECT_EQ(audit_first->second, "Bank::accounts_");
  EXPECT_EQ(audit_first->second_at.line, audit_line);
  EXPECT_NE(audit_first->holder.find("audit (coroutine "), std::string::npos);
  EXPECT_NE(accounts_first->thread, audit_first->thread);
  EXPECT_TRUE(r.locks.deadlocks.empty());
  EXPECT_EQ(count_lines(err, "coroscope: lock-order cycle observed:"), 1) << err;
  EXPECT_NE(err.find("[coro-lock-order-inversion]"), std::string::npos) << err;
  EXPECT_EQ(r.locks.orders.size(), 2u);
}

// Three classes in a ring, each pair taken in order: the third closes it.
spin_mutex ring_a, ring_b, ring_c;

TEST_F(LocksTest, ACycleThroughThreeClassesNamesEveryOrder) {
  {
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, ring_a, "ring::a");
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, ring_b, "ring::b");
  }
  {
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, ring_b, "ring::b");
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, c, ring_c, "ring::c");
  }
  report::report r = coroscope::detail::make_report();
  EXPECT_TRUE(r.locks.cycles.empty());
  {
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, c, ring_c, "ring::c");
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, ring_a, "ring::a");
  }
  r = coroscope::detail::make_report();
  ASSERT_EQ(r.locks.cycles.size(), 1u);
  ASSERT_EQ(r.locks.cycles[0].orders.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.locks.cycles[0].orders[i].second, r.locks.cycles[0].orders[(i + 1) % 3].first);
    EXPECT_NE(r.locks.cycles[0].orders[i].holder.find("thread "), std::string::npos);
  }
}

// --- statistics ------------------------------------------------------------

std::mutex stats_mu;
unsigned long_from_line;

task<> holds_for(std::int64_t ms) {
  COROSCOPE_CORO();
  {
    long_from_line = __LINE__; COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, stats_mu, "Stats::mu_");
    advance_ms(ms);
  }
  COROSCOPE_RETURN();
}

TEST_F(LocksTest, StatisticsPerClass) {
  auto cfg = config();
  cfg.clock = "manual";
  reset(cfg);
  for (std::int64_t ms : {1, 7, 3}) {
    auto t = holds_for(ms);
    t.start();
  }
  // A manual lock and unlock outside any coroutine, and a try_lock.
  stats_mu.lock();
  COROSCOPE_LOCKED(stats_mu, "Stats::mu_");
  advance_ms(2);
  COROSCOPE_UNLOCKING(stats_mu, "Stats::mu_");
  stats_mu.unlock();
  if (stats_mu.try_lock()) {
    COROSCOPE_LOCKED(stats_mu, "Stats::mu_");
    COROSCOPE_UNLOCKING(stats_mu, "Stats::mu_");
    stats_mu.unlock();
  }
  report::report r = coroscope::detail::make_report();
  const report::lock_class_stats *c = lock_named(r, "Stats::mu_");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "mutex");
  EXPECT_EQ(c->acquisitions, 5u);
  EXPECT_EQ(c->contended, 0u);
  EXPECT_EQ(c->hold.count, 5u);
  EXPECT_EQ(c->hold.max_ns, 7'000'000u);
  EXPECT_EQ(c->hold.sum_ns, 13'000'000u);
  EXPECT_EQ(c->wait.count, 0u); // waits are timed only when contended
  EXPECT_EQ(c->longest_hold_ns, 7'000'000u);
  EXPECT_EQ(c->longest_from.line, long_from_line);
  // A guard's release is recorded at its declaration's site: the hand API
  // does not know where its scope ends.
  EXPECT_EQ(c->longest_to.line, long_from_line);
  EXPECT_NE(c->longest_holder.find("holds_for (coroutine "), std::string::npos);
  EXPECT_EQ(r.locks.unmatched_releases, 0u);
  EXPECT_TRUE(r.locks.cycles.empty());
}

TEST_F(LocksTest, ContendedAcquisitionsAreCounted) {
  std::mutex m;
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, m, "Contended::m");
    holding = true;
    while (!release)
      std::this_thread::yield();
  });
  ASSERT_TRUE(eventually([&] { return holding.load(); }));
  std::thread waiter([&] { COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, m, "Contended::m"); });
  // The waiter is blocked in the lock, or about to be: either way it saw
  // the holder when it began to wait, which is what counts.
  ASSERT_TRUE(eventually([&] {
    return coroscope::detail::lock_waiter_for_testing();
  }));
  release = true;
  holder.join();
  waiter.join();
  report::report r = coroscope::detail::make_report();
  const report::lock_class_stats *c = lock_named(r, "Contended::m");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->acquisitions, 2u);
  EXPECT_EQ(c->contended, 1u);
  EXPECT_EQ(c->wait.count, 1u);
  EXPECT_EQ(c->hold.count, 2u); // every hold, with COROSCOPE_LOCK_SAMPLE=1
}

TEST_F(LocksTest, AReleaseOfALockNeverAcquiredIsCountedNotFatal) {
  std::mutex m;
  COROSCOPE_UNLOCKING(m, "Never::taken");
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.locks.unmatched_releases, 1u);
}

TEST_F(LocksTest, HeldSetDepthIsBoundedAndOverflowIsCounted) {
  std::mutex ms[coroscope::detail::kMaxHeldLocks + 2];
  for (auto &m : ms)
    COROSCOPE_LOCKED(m, "Deep::m");
  for (auto &m : ms)
    COROSCOPE_UNLOCKING(m, "Deep::m");
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.drops["lock_depth"], 2u);
  EXPECT_EQ(r.locks.unmatched_releases, 2u);
}

// --- a deadlock between an async mutex and a coroutine await ---------------

async_mutex table_m;
unsigned deadlock_child_line, deadlock_parent_line;

task<> refresh_entry() {
  COROSCOPE_CORO();
  deadlock_child_line = __LINE__; COROSCOPE_ASYNC_LOCK_GUARD(g, table_m, "Table::m_", table_m.scoped_lock());
  COROSCOPE_RETURN();
}

task<> update_table() {
  COROSCOPE_CORO();
  COROSCOPE_ASYNC_LOCK_GUARD(g, table_m, "Table::m_", table_m.scoped_lock());
  // The child needs the lock this coroutine holds while it awaits the child.
  deadlock_parent_line = __LINE__; COROSCOPE_AWAIT(refresh_entry());
  COROSCOPE_RETURN();
}

TEST_F(LocksTest, WatchdogNamesADeadlockBetweenAnAsyncLockAndAnAwait) {
  auto cfg = config();
  cfg.hang_ms = 10;
  cfg.watchdog = true;
  reset(cfg);
  // The watchdog logs a deadlock just after the report holds it.
  std::optional<stderr_to_file> captured(std::in_place);
  auto t = update_table();
  t.start();
  ASSERT_TRUE(eventually([] { return !coroscope::detail::make_report().locks.deadlocks.empty(); }));
  EXPECT_TRUE(eventually([&] { return count_lines(captured->text(), "coroscope: deadlock:") != 0; }));
  std::string err = captured->text();
  captured.reset();
  report::report r = coroscope::detail::make_report();
  ASSERT_EQ(r.locks.deadlocks.size(), 1u);
  const report::deadlock &d = r.locks.deadlocks[0];
  ASSERT_EQ(d.members.size(), 2u);
  const report::deadlock_member *child = nullptr, *parent = nullptr;
  for (const auto &m : d.members)
    (m.who.find("refresh_entry") != std::string::npos ? child : parent) = &m;
  ASSERT_NE(child, nullptr);
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ(child->lock, "Table::m_");
  EXPECT_EQ(child->at.line, deadlock_child_line);
  EXPECT_NE(child->waits_for.find("lock 'Table::m_' held by update_table (coroutine "),
            std::string::npos)
      << child->waits_for;
  EXPECT_EQ(parent->at.line, deadlock_parent_line);
  EXPECT_NE(parent->waits_for.find("refresh_entry (coroutine "), std::string::npos);
  EXPECT_EQ(count_lines(err, "coroscope: deadlock:"), 1) << err;
  table_m.abandon_waiters();
}

} // namespace

namespace {

// With the default sampling, one uncontended hold in 16 is timed; every
// acquisition is still counted.
TEST_F(RuntimeTest, UncontendedHoldsAreSampled) {
  std::mutex m;
  for (int i = 0; i < 64; ++i) {
    COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, m, "Sampled::m");
  }
  report::report r = coroscope::detail::make_report();
  const report::lock_class_stats *c = lock_named(r, "Sampled::m");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->acquisitions, 64u);
  EXPECT_EQ(c->hold.count, 4u);
}

} // namespace

namespace {

// A coroutine destroyed while suspended with a guard held: the guard's
// release, run by whoever destroys the frame, still finds the lock.
std::mutex parked_mu;

task<> parks_holding(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, g, parked_mu, "Parked::mu_");
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, AGuardReleasedWhileItsCoroutineIsDestroyedIsFound) {
  event e;
  {
    auto t = parks_holding(e);
    t.start();
  } // destroyed while suspended: the guard unlocks on this thread
  report::report r = coroscope::detail::make_report();
  EXPECT_EQ(r.locks.unmatched_releases, 0u);
  const report::lock_class_stats *c = lock_named(r, "Parked::mu_");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->acquisitions, 1u);
}

} // namespace

namespace {

// The steady state at the default sampling: most acquisitions and releases
// never leave their fast paths (a cached site, a validated chain, the lock
// taken last), and those must still count every acquisition, move the held
// set with its coroutine, and let a new order through to validation.
spin_mutex steady_outer, steady_inner;
unsigned steady_hold_line, steady_park_line;

task<> takes_nested_then_parks(event &e) {
  COROSCOPE_CORO();
  for (int i = 0; i < 100; ++i) {
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, steady_outer, "Steady::outer_");
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, steady_inner, "Steady::inner_");
  }
  steady_hold_line = __LINE__; COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, held, steady_outer, "Steady::outer_");
  steady_park_line = __LINE__; COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

TEST_F(RuntimeTest, TheSteadyStateKeepsCountsHeldSetsAndNewOrders) {
  event e;
  auto t = takes_nested_then_parks(e);
  t.start();
  e.fire(); // resumed holding Steady::outer_, which it then releases
  {
    // Taken once in the other order, outside any coroutine: a new chain.
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, b, steady_inner, "Steady::inner_");
    COROSCOPE_LOCK_GUARD(std::lock_guard<spin_mutex>, a, steady_outer, "Steady::outer_");
  }
  report::report r = coroscope::detail::make_report();
  const report::lock_class_stats *outer = lock_named(r, "Steady::outer_");
  const report::lock_class_stats *inner = lock_named(r, "Steady::inner_");
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(outer->acquisitions, 102u);
  EXPECT_EQ(inner->acquisitions, 101u);
  EXPECT_LT(outer->hold.count + inner->hold.count, 203u); // sampled
  EXPECT_EQ(r.locks.unmatched_releases, 0u);
  ASSERT_EQ(r.locks.held_across_suspension.size(), 1u);
  EXPECT_EQ(r.locks.held_across_suspension[0].lock, "Steady::outer_");
  EXPECT_EQ(r.locks.held_across_suspension[0].acquired_at.line, steady_hold_line);
  EXPECT_EQ(r.locks.held_across_suspension[0].suspended_at.line, steady_park_line);
  ASSERT_EQ(r.locks.cycles.size(), 1u);
  EXPECT_EQ(r.locks.cycles[0].orders.size(), 2u);
}

} // namespace
