//===- CommandLine.cpp - what the coroscope subcommands parse alike -------===//
#include "CommandLine.h"

#include "coroscope/output.hpp"

namespace coroscope::tool {

std::optional<std::string> optionValue(const std::vector<std::string> &Args,
                                       size_t &I, llvm::StringRef Name,
                                       llvm::StringRef What,
                                       std::string &Error) {
  llvm::StringRef Arg = Args[I];
  if (!Arg.consume_front(Name))
    return std::nullopt;
  std::string Value;
  if (Arg.consume_front("="))
    Value = Arg.str();
  else if (!Arg.empty())
    return std::nullopt; // --formatx
  else if (I + 1 < Args.size())
    Value = Args[++I];
  if (Value.empty())
    Error = Name.str() + " needs " + What.str();
  return Value;
}

bool takeOutputOption(const std::vector<std::string> &Args, size_t &I,
                      OutputOptions &Options, std::string &Error) {
  if (auto Value = optionValue(Args, I, "-o", "a file name", Error))
    Options.Output = *Value;
  else if (auto Value =
               optionValue(Args, I, "--source-root", "a directory", Error))
    Options.SourceRoot = *Value;
  else
    return false;
  return true;
}

std::string writeOutput(const std::string &Output, const std::string &Text) {
  std::string Error;
  const std::string Target = Output.empty() ? "-" : Output;
  if (output::write_file(Target, Text, Error) == output::status::written)
    return "";
  return "cannot write '" + (Target == "-" ? "<stdout>" : Target) +
         "': " + Error;
}

} // namespace coroscope::tool
