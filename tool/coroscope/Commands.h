//===- Commands.h - coroscope subcommands ---------------------------------===//
#ifndef COROSCOPE_TOOL_COMMANDS_H
#define COROSCOPE_TOOL_COMMANDS_H

#include "coroscope/report.hpp"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace coroscope::tool {

// Each command takes the arguments after its name and returns the exit code.
int runReport(const std::vector<std::string> &Args);
int runInstrument(const std::vector<std::string> &Args);
/// `coroscope link`, also run as `coroscope lockgraph` (\p Name).
int runLink(const std::vector<std::string> &Args, llvm::StringRef Name);
int runTriage(const std::vector<std::string> &Args);
int runPs(const std::vector<std::string> &Args);
int runPstree(const std::vector<std::string> &Args);
int runTop(const std::vector<std::string> &Args);

// A self-contained HTML page: tables and an SVG timeline, no scripts.
std::string renderHtml(const report::report &R);

} // namespace coroscope::tool

#endif
