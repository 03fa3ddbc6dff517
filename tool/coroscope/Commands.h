//===- Commands.h - coroscope subcommands ---------------------------------===//
#ifndef COROSCOPE_TOOL_COMMANDS_H
#define COROSCOPE_TOOL_COMMANDS_H

#include "coroscope/report.hpp"

#include <string>
#include <vector>

namespace coroscope::tool {

// Each command takes the arguments after its name and returns the exit code.
int runReport(const std::vector<std::string> &Args);
int runInstrument(const std::vector<std::string> &Args);
int runLockgraph(const std::vector<std::string> &Args);
int runTriage(const std::vector<std::string> &Args);
int runPs(const std::vector<std::string> &Args);
int runPstree(const std::vector<std::string> &Args);
int runTop(const std::vector<std::string> &Args);

// A self-contained HTML page: tables and an SVG timeline, no scripts.
std::string renderHtml(const report::report &R);

} // namespace coroscope::tool

#endif
