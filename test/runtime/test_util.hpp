// Helpers shared by the runtime tests.
#pragma once

#include <coroscope/report.hpp>
#include <coroscope/testing.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

namespace coroscope_test {

// With the manual clock: \p ms pass, and only when a test says so.
inline void advance_ms(std::int64_t ms) {
  coroscope::detail::advance_manual_clock(ms * 1'000'000);
}

inline const coroscope::report::function_stats *
function_named(const coroscope::report::report &r, std::string_view name) {
  for (const auto &f : r.functions)
    if (f.body.function == name)
      return &f;
  return nullptr;
}

inline const coroscope::report::coroutine *
live_named(const coroscope::report::report &r, std::string_view name) {
  for (const auto &c : r.live)
    if (c.body.function == name)
      return &c;
  return nullptr;
}

inline const coroscope::report::site_stats *site_at(const coroscope::report::report &r,
                                                    unsigned line) {
  for (const auto &s : r.sites)
    if (s.at.line == line)
      return &s;
  return nullptr;
}

// Waits until `ready` holds; the bound only keeps a broken build from hanging.
inline bool eventually(const std::function<bool()> &ready) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > give_up)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

inline int count_lines(const std::string &text, std::string_view needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++n;
  return n;
}

// Stderr into a file that a test reads while the runtime still writes to it
// (gtest's CaptureStderr gives the text only once it stops): a line that a
// thread logs after the report shows its cause is waited for with
// eventually().
class stderr_to_file {
public:
  stderr_to_file()
      : path_((std::filesystem::temp_directory_path() /
               ("coroscope-test-stderr-" + std::to_string(::getpid())))
                  .string()),
        saved_(::dup(2)) {
    std::fflush(stderr);
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_to_file() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::remove(path_.c_str());
  }
  std::string text() const {
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

private:
  std::string path_;
  int saved_;
};

// Each test starts from an empty tracker with quiet thresholds.
class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override { reset(config()); }
  void TearDown() override { reset(config()); }
  static coroscope::detail::config config() {
    coroscope::detail::config cfg;
    cfg.slow_ms = 1e6;
    cfg.hang_ms = 1e6;
    return cfg;
  }
  static void reset(const coroscope::detail::config &cfg) {
    coroscope::detail::reset_for_testing(cfg);
  }
};

// The configuration read from `env` instead of the process environment.
inline coroscope::detail::config read_config_from(const std::map<std::string, std::string> &env,
                                                  std::vector<std::string> &warnings) {
  return coroscope::detail::read_config(
      [&](const char *name) -> const char * {
        auto found = env.find(name);
        return found == env.end() ? nullptr : found->second.c_str();
      },
      warnings);
}

// A RuntimeTest with a directory of its own for output files, removed after
// the tracker is reset (a flight recorder may still write into it until then).
class ScratchDirTest : public RuntimeTest {
protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    dir_ = std::filesystem::temp_directory_path() /
           ("coroscope-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    RuntimeTest::TearDown();
    std::error_code ignored;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ignored);
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path dir_;
};

} // namespace coroscope_test
