// The JSON report, its atomic write, merging, the summary, the trace, and the
// histogram arithmetic. Reports are read back with nlohmann::json, an
// independent parser.
#include "support.hpp"
#include "test_util.hpp"

#include <coroscope/ir_abi.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <vector>

extern "C" void coroscope_ir_ready_sites(void *table) noexcept; // ir_hooks.cpp

using namespace coroscope_test;
namespace report = coroscope::report;
namespace fs = std::filesystem;

namespace {

class ReportTest : public ScratchDirTest {
protected:
  static nlohmann::json read_json(const fs::path &path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }
};

task<int> leaf(int v) {
  COROSCOPE_CORO();
  COROSCOPE_RETURN(v);
}

task<int> fails_sometimes(int v) {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    int x = COROSCOPE_AWAIT(leaf(v));
    if (x % 3 == 0)
      throw std::invalid_argument("multiple of three");
    COROSCOPE_RETURN(x);
  }
  COROSCOPE_CATCH
}

void run_workload(int n) {
  for (int i = 1; i <= n; ++i) {
    auto t = fails_sometimes(i);
    t.start();
  }
}

TEST_F(ReportTest, JsonReportFollowsTheSchema) {
  run_workload(9);
  event e;
  auto pending = [](event &e) -> task<> {
    COROSCOPE_CORO();
    COROSCOPE_AWAIT(e);
    COROSCOPE_RETURN();
  }(e);
  pending.start();

  fs::path path = dir_ / "report.json";
  ASSERT_TRUE(coroscope::write_report(path.string()));
  nlohmann::json j = read_json(path);
  EXPECT_EQ(j["schema"], "coroscope-report");
  EXPECT_EQ(j["version"], 2);
  for (const char *key : {"processes", "duration_ms", "clock", "at_exit", "config", "summary",
                          "functions", "sites", "slow_steps", "hangs", "queued", "failures",
                          "cancelled",
                          "live", "drops"})
    EXPECT_TRUE(j.contains(key)) << key;
  const auto &s = j["summary"];
  EXPECT_EQ(s["started"], 19); // 9 + 9 leaves + 1 pending
  EXPECT_EQ(s["finished"], 15);
  EXPECT_EQ(s["failed"], 3);
  EXPECT_EQ(s["live"], 1);
  EXPECT_EQ(s["suspended"], 1);
  EXPECT_NEAR(s["error_rate"].get<double>(), 3.0 / 18.0, 1e-6);
  EXPECT_NEAR(s["success_rate"].get<double>(), 15.0 / 18.0, 1e-6);
  EXPECT_EQ(s["duration"]["count"], 18);
  EXPECT_GE(s["last_minute"]["finished"].get<int>(), 15);
  for (const char *key : {"p50_ns", "p90_ns", "p99_ns", "max_ns", "mean_ns", "buckets"})
    EXPECT_TRUE(s["duration"].contains(key)) << key;

  ASSERT_EQ(j["failures"].size(), 3u);
  EXPECT_EQ(j["failures"][0]["exception"]["type"], "std::invalid_argument");
  EXPECT_EQ(j["failures"][0]["exception"]["what"], "multiple of three");
  EXPECT_EQ(j["failures"][0]["body"]["function"], "fails_sometimes");
  ASSERT_EQ(j["live"].size(), 1u);
  EXPECT_EQ(j["live"][0]["state"], "suspended");
  for (const auto &drop : {"trace_events", "slow_steps", "hangs", "failures", "cancelled", "live",
                           "site_statistics", "log_lines"})
    EXPECT_TRUE(j["drops"].contains(drop)) << drop;
  bool found = false;
  for (const auto &f : j["functions"])
    if (f["body"]["function"] == "fails_sometimes") {
      found = true;
      EXPECT_EQ(f["started"], 9);
      EXPECT_EQ(f["failed"], 3);
      EXPECT_EQ(f["finished"], 6);
      EXPECT_EQ(f["duration"]["count"], 9);
    }
  EXPECT_TRUE(found);
  e.fire();
}

TEST_F(ReportTest, ReportReplacesTheFileAtomically) {
  fs::path path = dir_ / "report.json";
  std::ofstream(path) << "previous contents";
  run_workload(2);
  ASSERT_TRUE(coroscope::write_report(path.string()));
  EXPECT_EQ(read_json(path)["schema"], "coroscope-report");
  for (const auto &entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename(), "report.json") << "left behind: " << entry.path();
}

TEST_F(ReportTest, UnwritablePathIsOneLineErrorAndTheProgramGoesOn) {
  testing::internal::CaptureStderr();
  bool written = coroscope::write_report((dir_ / "missing-dir" / "r.json").string());
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(written);
  EXPECT_EQ(err.rfind("coroscope: error: cannot write the report '" +
                          (dir_ / "missing-dir" / "r.json").string() +
                          "': No such file or directory",
                      0),
            0u)
      << err;
  EXPECT_EQ(count_lines(err, "\n"), 1) << err;
  if (::geteuid() != 0) { // root ignores directory permissions
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_FALSE(coroscope::write_report((dir_ / "r.json").string()));
  }
}

TEST_F(ReportTest, SystemResourcesAreInTheReportAndTheSummary) {
  // Three more threads while the watchdog's sample is taken, gone by the
  // report: its peak keeps them.
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  bool release = false;
  std::vector<std::thread> extra;
  for (int i = 0; i < 3; ++i)
    extra.emplace_back([&] {
      std::unique_lock lock(m);
      ++arrived;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return arrived == 3; });
  }
  coroscope::detail::note_system_sample();
  const std::uint64_t with_extra = coroscope::detail::make_report().system.threads;
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  for (std::thread &t : extra)
    t.join();
  run_workload(2);
  report::report r = coroscope::detail::make_report();
  ASSERT_TRUE(r.system.known);
  EXPECT_GE(with_extra, 4u); // this thread and the three
  EXPECT_GE(r.system.peak_threads, with_extra);
  EXPECT_GE(r.system.threads, 1u);
  EXPECT_GT(r.system.rss_bytes, 0u);
  EXPECT_GE(r.system.peak_rss_bytes, r.system.rss_bytes);
  EXPECT_GE(r.system.user_cpu_s + r.system.system_cpu_s, 0.0);
  EXPECT_GE(r.system.samples, 3u); // the watchdog's, and the two reports'

  nlohmann::json j = nlohmann::json::parse(report::to_json(r));
  ASSERT_TRUE(j.contains("system")) << j.dump();
  EXPECT_EQ(j["system"]["peak_threads"].get<std::uint64_t>(), r.system.peak_threads);
  EXPECT_EQ(j["system"]["rss_bytes"].get<std::uint64_t>(), r.system.rss_bytes);
  EXPECT_EQ(j["system"].size(), 9u) << j["system"].dump();

  std::ostringstream summary;
  report::render_summary(r, summary);
  EXPECT_NE(summary.str().find("coroscope: system: CPU "), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("(peak " + std::to_string(r.system.peak_threads) + ")"),
            std::string::npos)
      << summary.str();
}

TEST(ReportMerge, SystemResourcesAddUpAndKeepTheLargestPeaks) {
  report::report a, b, none;
  a.system.known = true;
  a.system.user_cpu_s = 1.5;
  a.system.system_cpu_s = 0.5;
  a.system.rss_bytes = 100;
  a.system.peak_rss_bytes = 300;
  a.system.threads = 4;
  a.system.peak_threads = 9;
  a.system.voluntary_switches = 10;
  a.system.involuntary_switches = 2;
  a.system.samples = 5;
  b.system = a.system;
  b.system.user_cpu_s = 0.5;
  b.system.peak_rss_bytes = 400;
  b.system.peak_threads = 3;
  report::report merged = report::merge({a, b, none});
  ASSERT_TRUE(merged.system.known);
  EXPECT_DOUBLE_EQ(merged.system.user_cpu_s, 2.0);
  EXPECT_DOUBLE_EQ(merged.system.system_cpu_s, 1.0);
  EXPECT_EQ(merged.system.rss_bytes, 200u);
  EXPECT_EQ(merged.system.peak_rss_bytes, 400u);
  EXPECT_EQ(merged.system.threads, 8u);
  EXPECT_EQ(merged.system.peak_threads, 9u);
  EXPECT_EQ(merged.system.voluntary_switches, 20u);
  EXPECT_EQ(merged.system.involuntary_switches, 4u);
  EXPECT_EQ(merged.system.samples, 10u);
  EXPECT_FALSE(report::merge({none}).system.known);
}

TEST_F(ReportTest, ReportsMerge) {
  run_workload(6);
  report::report first = coroscope::detail::make_report();
  reset(config());
  run_workload(3);
  report::report second = coroscope::detail::make_report();

  // Reading reports back is the tool's (test/tool/report-command.test).
  report::report merged = report::merge({first, second});
  const auto *f = function_named(merged, "fails_sometimes");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->started, 9u);
  EXPECT_EQ(f->failed, 3u); // 3, 6 and 3
  EXPECT_EQ(f->duration.count, 9u);
  EXPECT_EQ(f->duration.max_ns, std::max(function_named(first, "fails_sometimes")->duration.max_ns,
                                         function_named(second, "fails_sometimes")->duration.max_ns));
  EXPECT_EQ(merged.failures.size(), 3u);
  EXPECT_EQ(merged.processes.size(), 2u);
  std::uint64_t site_count = 0;
  for (const auto &s : merged.sites)
    site_count += s.count;
  EXPECT_EQ(site_count, 9u);
  EXPECT_EQ(report::summarize(merged).started, 18u);
}

// The IR engine's counts of awaits that did not suspend, laid out as the
// pass lays them out (coroscope/ir_abi.h) and registered as its module
// constructor registers them.
struct ready_table_for_test {
  void *next = nullptr;
  std::uint64_t size = 2;
  struct {
    const coroscope::site *at;
    std::uint64_t count;
  } entries[2];
};
static_assert(sizeof(ready_table_for_test) ==
              COROSCOPE_IR_READY_HEADER_SIZE + 2 * COROSCOPE_IR_READY_ENTRY_SIZE);

TEST_F(ReportTest, AwaitsThatDidNotSuspendAreCountedPerSite) {
  static constexpr coroscope::site never_suspends{"ready_only", "ir.cpp", 7, 5,
                                                  coroscope::site_kind::await};
  static constexpr coroscope::site untouched{"ready_only", "ir.cpp", 8, 5,
                                             coroscope::site_kind::yield};
  static ready_table_for_test table{nullptr, 2, {{&never_suspends, 0}, {&untouched, 0}}};
  static bool registered = (coroscope_ir_ready_sites(&table), true);
  ASSERT_TRUE(registered);
  table.entries[0].count = 41;

  report::report r = coroscope::detail::make_report();
  std::vector<const report::site_stats *> ready_only;
  for (const auto &s : r.sites)
    if (s.at.function == "ready_only")
      ready_only.push_back(&s);
  // A site with no count is not in the report; one that never suspended is,
  // with its awaits and empty histograms.
  ASSERT_EQ(ready_only.size(), 1u);
  EXPECT_EQ(ready_only[0]->at.line, 7u);
  EXPECT_EQ(ready_only[0]->kind, "await");
  EXPECT_EQ(ready_only[0]->ready, 41u);
  EXPECT_EQ(ready_only[0]->count, 0u);
  EXPECT_EQ(ready_only[0]->wait.count, 0u);

  report::report merged = report::merge({r, r});
  for (const auto &s : merged.sites)
    if (s.at.function == "ready_only")
      EXPECT_EQ(s.ready, 82u);
  std::string json = report::to_json(r);
  EXPECT_NE(json.find("\"ready\":41"), std::string::npos);
  std::ostringstream summary;
  report::render_summary(r, summary);
  EXPECT_NE(summary.str().find("ready"), std::string::npos) << summary.str();

  // A reset (and a forked child) starts the counts again.
  reset(config());
  EXPECT_EQ(table.entries[0].count, 0u);
  report::report after = coroscope::detail::make_report();
  for (const auto &s : after.sites)
    EXPECT_NE(s.at.function, "ready_only");
  // With no await that did not suspend, the summary has no such column.
  run_workload(3);
  std::ostringstream plain_summary;
  report::render_summary(coroscope::detail::make_report(), plain_summary);
  EXPECT_NE(plain_summary.str().find("await site"), std::string::npos) << plain_summary.str();
  EXPECT_EQ(plain_summary.str().find("ready"), std::string::npos) << plain_summary.str();
}

TEST_F(ReportTest, SummaryPutsTheWorstFunctionsFirst) {
  run_workload(6);
  for (int i = 0; i < 4; ++i) {
    auto t = leaf(i);
    t.start();
  }
  std::ostringstream out;
  coroscope::print_summary(out);
  std::string text = out.str();
  EXPECT_NE(text.find("coroscope: 16 coroutines in "), std::string::npos) << text;
  EXPECT_NE(text.find(": 14 finished, 2 failed (2 failures), 0 cancelled, 0 live"),
            std::string::npos)
      << text;
  auto failing = text.find("  fails_sometimes");
  auto healthy = text.find("  leaf");
  ASSERT_NE(failing, std::string::npos) << text;
  ASSERT_NE(healthy, std::string::npos) << text;
  EXPECT_LT(failing, healthy) << text;
  EXPECT_NE(text.find("coroscope: 2 failures (2 coroutines failed); first ones:\n"
                      "  fails_sometimes: std::invalid_argument: multiple of three"),
            std::string::npos)
      << text;
}

task<> traced_hop(thread_pool &pool, std::atomic<bool> &done) {
  COROSCOPE_CORO();
  COROSCOPE_AWAIT(std::suspend_never{});
  COROSCOPE_AWAIT(pool.schedule());
  done = true;
  COROSCOPE_RETURN();
}

TEST_F(ReportTest, TraceFollowsTheTraceEventFormat) {
  auto cfg = config();
  cfg.trace_path = (dir_ / "unused.json").string();
  reset(cfg);
  std::atomic<bool> done{false};
  {
    thread_pool pool(1);
    auto t = traced_hop(pool, done);
    t.start();
    ASSERT_TRUE(eventually([&] { return done.load() && t.done(); }));
  }
  fs::path path = dir_ / "trace.json";
  ASSERT_TRUE(coroscope::write_trace(path.string()));
  nlohmann::json j = read_json(path);
  ASSERT_TRUE(j["traceEvents"].is_array());
  std::set<std::string> starts, finishes;
  std::set<int> step_threads, named_threads;
  int steps = 0;
  for (const auto &e : j["traceEvents"]) {
    ASSERT_TRUE(e["ph"].is_string());
    ASSERT_TRUE(e["pid"].is_number_integer());
    std::string ph = e["ph"];
    if (ph == "M") {
      if (e["name"] == "thread_name")
        named_threads.insert(e["tid"].get<int>());
      continue;
    }
    ASSERT_TRUE(e["ts"].is_number()) << e;
    ASSERT_TRUE(e["tid"].is_number_integer()) << e;
    if (ph == "X") {
      ASSERT_TRUE(e["dur"].is_number()) << e;
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      if (e["name"] == "traced_hop") {
        ++steps;
        step_threads.insert(e["tid"].get<int>());
      }
    } else if (ph == "s") {
      starts.insert(e["id"].get<std::string>());
    } else if (ph == "f") {
      EXPECT_EQ(e["bp"], "e");
      finishes.insert(e["id"].get<std::string>());
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  EXPECT_EQ(steps, 3); // start -> first await -> pool hop -> end
  EXPECT_EQ(step_threads.size(), 2u) << "one track per thread";
  for (int tid : step_threads)
    EXPECT_TRUE(named_threads.count(tid)) << tid;
  EXPECT_GE(starts.size(), 2u);
  EXPECT_EQ(starts, finishes) << "every suspend flows to its resume";
}

task<> long_running_steps(int steps) {
  COROSCOPE_CORO();
  for (int i = 0; i < steps; ++i) {
    coroscope::detail::advance_manual_clock(1'007); // each step runs 1.007 us
    COROSCOPE_AWAIT(std::suspend_never{});
  }
  COROSCOPE_RETURN();
}

// A service that has run for minutes still gets exact timestamps: steps one
// after another keep distinct, ordered ts, and every flow ends after it
// starts. The clock is simulated; the test does not sleep.
TEST_F(ReportTest, TraceTimestampsStayExactAfterMinutes) {
  auto cfg = config();
  cfg.clock = "manual";
  cfg.trace_path = (dir_ / "unused.json").string();
  reset(cfg);
  coroscope::detail::advance_manual_clock(1'234'000'000'011); // 20.6 minutes in
  auto t = long_running_steps(50);
  t.start();
  ASSERT_TRUE(t.done());
  fs::path path = dir_ / "trace.json";
  ASSERT_TRUE(coroscope::write_trace(path.string()));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Written as microseconds with exactly three decimals.
  EXPECT_NE(text.find("\"ts\":1234000000.011,"), std::string::npos) << text.substr(0, 2000);
  nlohmann::json j = nlohmann::json::parse(text);
  std::vector<double> begins;
  std::map<std::string, double> flow_start, flow_end;
  for (const auto &e : j["traceEvents"]) {
    if (e["ph"] == "X" && e["name"] == "long_running_steps") {
      begins.push_back(e["ts"].get<double>());
      EXPECT_NEAR(e["dur"].get<double>(), begins.size() <= 50 ? 1.007 : 0.0, 1e-9) << e;
    } else if (e["ph"] == "s") {
      flow_start[e["id"]] = e["ts"].get<double>();
    } else if (e["ph"] == "f") {
      flow_end[e["id"]] = e["ts"].get<double>();
    }
  }
  ASSERT_EQ(begins.size(), 51u); // 50 awaits: 51 steps
  for (std::size_t i = 1; i < begins.size(); ++i)
    EXPECT_NEAR(begins[i] - begins[i - 1], 1.007, 1e-6) << "step " << i;
  ASSERT_FALSE(flow_start.empty());
  for (const auto &[id, start] : flow_start) {
    ASSERT_TRUE(flow_end.count(id)) << id;
    EXPECT_GT(flow_end[id], start) << id;
  }
}

// Integers are exact and no figure is rounded to 6 significant digits.
TEST(ReportJson, NumbersAreExact) {
  report::report r;
  report::function_stats f;
  f.body.function = "f";
  f.running_ns = 18'446'744'073'709'551'614ull;
  f.duration.count = 3;
  f.duration.sum_ns = 10;
  r.functions.push_back(f);
  r.duration_ms = 1'234'567.891234;
  r.slow_ms = 0.1;
  std::string text = report::to_json(r);
  EXPECT_NE(text.find("\"running_ns\":18446744073709551614"), std::string::npos) << text;
  EXPECT_NE(text.find("\"duration_ms\":1234567.891234,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"slow_ms\":0.1,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"mean_ns\":3.3333333333333335,"), std::string::npos) << text;
}

// Exception messages are not always UTF-8; the report still is.
TEST(ReportJson, InvalidUtf8BecomesReplacementCharacters) {
  report::report r;
  report::coroutine c;
  c.state = "failed";
  c.exception_what = std::string("bad \xff byte, fine \xc3\xa9, cut \xe2\x82");
  r.failures.push_back(c);
  std::string text = report::to_json(r);
  EXPECT_NE(text.find("bad \xEF\xBF\xBD byte, fine \xc3\xa9, cut \xEF\xBF\xBD\xEF\xBF\xBD"),
            std::string::npos)
      << text;
  EXPECT_TRUE(nlohmann::json::accept(text));
}

TEST(Histogram, BucketsAreLogLinearAndCoverEveryValue) {
  using namespace coroscope::detail;
  for (std::uint64_t v : {0ull, 1ull, 3ull, 4ull, 5ull, 7ull, 8ull, 1000ull, 123456ull,
                          999999999ull, 1ull << 40, (1ull << 45) - 1}) {
    int b = bucket_of(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, kBucketCount);
    EXPECT_LE(bucket_floor(b), v) << v;
    if (b + 1 < kBucketCount) {
      EXPECT_GT(bucket_floor(b + 1), v) << v;
      if (v >= 8) // within 25% width above the linear range
        EXPECT_LE(double(bucket_floor(b + 1) - bucket_floor(b)), 0.25 * double(v) + 1) << v;
    }
  }
  EXPECT_EQ(bucket_of(~0ull), kBucketCount - 1);
}

TEST(Histogram, PercentilesAreWithinOneBucket) {
  report::histogram h;
  coroscope::detail::histogram live;
  for (std::uint64_t us = 1; us <= 1000; ++us)
    live.record(us * 1000);
  h.count = live.count.get();
  h.sum_ns = live.sum_ns.get();
  h.max_ns = live.max_ns.get();
  for (int i = 0; i < coroscope::detail::kBucketCount; ++i)
    if (auto n = live.buckets[i].get())
      h.buckets[i] = n;
  EXPECT_EQ(h.count, 1000u);
  EXPECT_EQ(h.max_ns, 1'000'000u);
  EXPECT_NEAR(h.mean_ns(), 500'500, 1);
  auto near = [](std::uint64_t got, double want) {
    return double(got) >= want && double(got) <= want * 1.25;
  };
  EXPECT_TRUE(near(h.percentile(0.50), 500'000)) << h.percentile(0.50);
  EXPECT_TRUE(near(h.percentile(0.90), 900'000)) << h.percentile(0.90);
  EXPECT_TRUE(near(h.percentile(0.99), 990'000)) << h.percentile(0.99);
  EXPECT_EQ(h.percentile(1.0), 1'000'000u);

  report::histogram doubled = h;
  doubled.merge(h);
  EXPECT_EQ(doubled.count, 2000u);
  EXPECT_EQ(doubled.percentile(0.5), h.percentile(0.5));
}

} // namespace
