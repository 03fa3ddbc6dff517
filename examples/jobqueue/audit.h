// jobqueue: the audit trail.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace jobqueue {

inline std::string audit_path() {
  const char *path = std::getenv("JOBQUEUE_AUDIT_LOG");
  return path ? path : "/dev/null";
}

/// Appends a line to the audit log on disk.
inline void audit(const std::string &line) {
  std::ofstream log(audit_path(), std::ios::app);
  log << line << '\n';
}

} // namespace jobqueue
