// A synchronous logger, the usual single root cause behind many findings.
#pragma once
#include <cstdio>

namespace applog {
inline void write_line(const char *text) {
  std::fputs(text, stderr);
  std::fflush(stderr);
}
} // namespace applog
