//===- CommandLine.h - what the coroscope subcommands parse alike ---------===//
#ifndef COROSCOPE_TOOL_COMMANDLINE_H
#define COROSCOPE_TOOL_COMMANDLINE_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace coroscope::tool {

/// When Args[I] is option \p Name ("--name value" or "--name=value"), its
/// value, with I moved past it; \p Error ("-o needs a file name") is set
/// when the value, \p What, is missing or empty. nullopt when Args[I] is
/// another argument.
std::optional<std::string> optionValue(const std::vector<std::string> &Args,
                                       size_t &I, llvm::StringRef Name,
                                       llvm::StringRef What,
                                       std::string &Error);

/// What link and triage take alike: where to write, and the root that
/// SARIF locations are relative to.
struct OutputOptions {
  std::string Output;
  std::string SourceRoot;
};

/// Takes `-o FILE` or `--source-root DIR` at Args[I] into \p Options; true
/// when Args[I] was one of them (then \p Error is set if its value is
/// missing).
bool takeOutputOption(const std::vector<std::string> &Args, size_t &I,
                      OutputOptions &Options, std::string &Error);

/// Writes \p Text to \p Output ("" or "-" is stdout) as the runtime writes
/// its files; "" on success, else the one-line error.
std::string writeOutput(const std::string &Output, const std::string &Text);

} // namespace coroscope::tool

#endif
