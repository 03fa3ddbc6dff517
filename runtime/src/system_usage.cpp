// The process's own use of the machine (CPU time, memory, threads, context
// switches) for the report: getrusage and /proc/self, sampled by the
// watchdog and when a report is made.
#include "tracker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sys/resource.h>
#include <unistd.h>

namespace coroscope::detail {
namespace {

// "Threads:" of /proc/self/status; 0 when it cannot be read.
std::uint64_t thread_count() {
  std::FILE *status = std::fopen("/proc/self/status", "re");
  if (status == nullptr)
    return 0;
  char line[256];
  unsigned long long threads = 0;
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::sscanf(line, "Threads: %llu", &threads) == 1)
      break;
  std::fclose(status);
  return threads;
}

// The resident set now, from /proc/self/statm; 0 when it cannot be read.
std::uint64_t resident_bytes() {
  std::FILE *statm = std::fopen("/proc/self/statm", "re");
  if (statm == nullptr)
    return 0;
  unsigned long long size = 0, resident = 0;
  int fields = std::fscanf(statm, "%llu %llu", &size, &resident);
  std::fclose(statm);
  long page = sysconf(_SC_PAGESIZE);
  return fields == 2 && page > 0 ? resident * static_cast<std::uint64_t>(page) : 0;
}

void raise_to(std::atomic<std::uint64_t> &peak, std::uint64_t value) {
  std::uint64_t seen = peak.load(std::memory_order_relaxed);
  while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

} // namespace

report::system_usage sample_system_usage() {
  report::system_usage usage;
  struct rusage self {};
  if (getrusage(RUSAGE_SELF, &self) != 0)
    return usage;
  usage.known = true;
  usage.user_cpu_s = double(self.ru_utime.tv_sec) + double(self.ru_utime.tv_usec) / 1e6;
  usage.system_cpu_s = double(self.ru_stime.tv_sec) + double(self.ru_stime.tv_usec) / 1e6;
  usage.peak_rss_bytes = static_cast<std::uint64_t>(self.ru_maxrss) * 1024; // Linux: KiB
  usage.voluntary_switches = static_cast<std::uint64_t>(self.ru_nvcsw);
  usage.involuntary_switches = static_cast<std::uint64_t>(self.ru_nivcsw);
  usage.rss_bytes = resident_bytes();
  // Read after getrusage, the resident set may have grown past its peak.
  usage.peak_rss_bytes = std::max(usage.peak_rss_bytes, usage.rss_bytes);
  usage.threads = thread_count();
  usage.peak_threads = usage.threads;
  return usage;
}

void note_system_sample() {
  // Only the thread count has no peak the kernel keeps.
  std::uint64_t threads = thread_count();
  if (threads == 0)
    return;
  runtime &r = rt();
  raise_to(r.peak_threads, threads);
  r.system_samples.fetch_add(1, std::memory_order_relaxed);
}

report::system_usage system_usage_for_report() {
  runtime &r = rt();
  report::system_usage usage = sample_system_usage();
  if (!usage.known)
    return usage;
  raise_to(r.peak_threads, usage.threads);
  usage.peak_threads = r.peak_threads.load(std::memory_order_relaxed);
  usage.samples = r.system_samples.fetch_add(1, std::memory_order_relaxed) + 1;
  return usage;
}

} // namespace coroscope::detail
