//===- ReportCommand.cpp - coroscope report -------------------------------===//
#include "Commands.h"
#include "InputFile.h"
#include "ReportReader.h"
#include "coroscope/output.hpp"

#include "llvm/Support/Error.h"

#include <cstdio>
#include <optional>
#include <sstream>

namespace coroscope::tool {
namespace {

int fail(const std::string &Message) {
  std::fprintf(stderr, "coroscope: error: %s\n", Message.c_str());
  return 1;
}

std::optional<report::report> load(const std::string &Path,
                                   std::string &Error) {
  auto Buffer = readInputFile(Path);
  if (!Buffer) {
    Error = llvm::toString(Buffer.takeError());
    return std::nullopt;
  }
  llvm::Expected<report::report> Parsed = readReport((*Buffer)->getBuffer());
  if (!Parsed) {
    Error = "'" + Path + "': " + llvm::toString(Parsed.takeError());
    return std::nullopt;
  }
  return std::move(*Parsed);
}

// Writes to `Output`, or to stdout when it is empty or "-".
int emit(const std::string &Output, const std::string &Contents) {
  std::string Path = Output.empty() ? "-" : Output;
  std::string Error;
  if (output::write_file(Path, Contents, Error) != output::status::written)
    return fail("cannot write '" + (Path == "-" ? "<stdout>" : Path) +
                "': " + Error);
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
    } else if (Arg.size() > 1 && Arg[0] == '-') { // "-" is stdin
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
    auto R = load(Path, Error);
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
