// The runtime's lines on stderr: at most 10 a second, with a count of the
// rest.
#include "tracker.hpp"

#include <cstdio>

namespace coroscope::detail {

void log_line(const std::string &line) {
  runtime &r = rt();
  std::lock_guard guard(r.log_lock);
  auto second = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 r.start_time)
                    .count();
  if (second != r.log_second) {
    if (r.suppressed_in_second != 0)
      std::fprintf(stderr, "coroscope: %llu similar reports suppressed in the previous second\n",
                   static_cast<unsigned long long>(r.suppressed_in_second));
    r.log_second = second;
    r.logs_in_second = 0;
    r.suppressed_in_second = 0;
  }
  if (r.logs_in_second >= 10) {
    ++r.suppressed_in_second;
    r.drop_log.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ++r.logs_in_second;
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string format_ms(double ms) {
  char buffer[32];
  if (ms >= 1000)
    std::snprintf(buffer, sizeof buffer, "%.2f s", ms / 1000);
  else
    std::snprintf(buffer, sizeof buffer, "%.1f ms", ms);
  return buffer;
}

} // namespace coroscope::detail
