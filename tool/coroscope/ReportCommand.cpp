//===- ReportCommand.cpp - coroscope report -------------------------------===//
#include "Commands.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace coroscope::tool {
namespace {

int fail(const std::string &Message) {
  std::fprintf(stderr, "coroscope: error: %s\n", Message.c_str());
  return 1;
}

std::optional<report::report> readReport(const std::string &Path,
                                         std::string &Error) {
  std::ifstream In(Path, std::ios::binary);
  if (!In) {
    Error = "cannot read '" + Path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream Text;
  Text << In.rdbuf();
  std::string Why;
  auto Parsed = report::from_json(Text.str(), Why);
  if (!Parsed)
    Error = "'" + Path + "': " + Why;
  return Parsed;
}

// Writes to `Output`, or to stdout when it is empty.
int emit(const std::string &Output, const std::string &Contents) {
  if (Output.empty()) {
    std::cout << Contents << std::flush;
    return 0;
  }
  std::string Error;
  if (!report::write_file_atomically(Output, Contents, Error))
    return fail(Error);
  return 0;
}

} // namespace

int runReport(const std::vector<std::string> &Args) {
  bool Merge = !Args.empty() && Args.front() == "merge";
  bool Html = false;
  std::string Output;
  std::vector<std::string> Inputs;
  for (std::size_t I = Merge ? 1 : 0; I < Args.size(); ++I) {
    const std::string &Arg = Args[I];
    if (Arg == "--html" && !Merge) {
      Html = true;
    } else if (Arg == "-o") {
      if (++I == Args.size())
        return fail("-o needs a file name");
      Output = Args[I];
    } else if (Arg.size() > 1 && Arg[0] == '-') {
      return fail("unknown option '" + Arg + "' for 'coroscope report'");
    } else {
      Inputs.push_back(Arg);
    }
  }
  if (Inputs.empty())
    return fail(Merge ? "'coroscope report merge' needs at least one report"
                      : "'coroscope report' needs a report file");
  if (!Merge && Inputs.size() > 1)
    return fail("'coroscope report' renders one report; use 'coroscope report "
                "merge' first");

  std::vector<report::report> Reports;
  for (const std::string &Path : Inputs) {
    std::string Error;
    auto R = readReport(Path, Error);
    if (!R)
      return fail(Error);
    Reports.push_back(std::move(*R));
  }
  if (Merge)
    return emit(Output, report::to_json(report::merge(Reports)));
  if (Html)
    return emit(Output, renderHtml(Reports.front()));
  std::ostringstream Text;
  report::render_summary(Reports.front(), Text);
  return emit(Output, Text.str());
}

} // namespace coroscope::tool
