//===- TriageGroups.h - coro-* findings grouped by root cause -------------===//
//
// The root of a finding is what a team decides about once: the function a
// blocking chain ends in (or the blocking call itself), the task or
// awaitable type, the lock. Each root comes with the option that accepts
// it, when there is one.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_TRIAGEGROUPS_H
#define COROSCOPE_TOOL_TRIAGEGROUPS_H

#include "TriageFindings.h"

#include <string>
#include <vector>

namespace coroscope::tool::triage {

/// What a group of findings shares, and how a team would accept it.
struct Root {
  std::string Key;         // groups findings: "coro-blocking-call\nlog::write"
  std::string Title;       // "'log::write' (blocking I/O: 'fwrite')"
  std::string Option;      // "coro-blocking-call.AllowedFunctions"
  std::string OptionValue; // "log::write"; empty when no option accepts it
  std::string Advice;      // when there is no option
};

struct Group {
  Root Cause;
  std::string Check;
  std::vector<const Finding *> Findings;
};

/// The findings grouped by root, largest group first; ties keep the order
/// of their roots.
std::vector<Group> groupFindings(const std::vector<Finding> &Findings);

} // namespace coroscope::tool::triage

#endif
