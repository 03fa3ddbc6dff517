//===- TriageCommand.cpp - coroscope triage -------------------------------===//
//
// Groups coro-* findings by their root cause (the blocking function at the
// end of a chain, the task type, the lock) so that a code base's first run
// reads as a few decisions, each with the option lines that would accept it.
//
//===----------------------------------------------------------------------===//
#include "CommandLine.h"
#include "Commands.h"
#include "InputFile.h"
#include "Sarif.h"
#include "TriageFindings.h"
#include "TriageGroups.h"
#include "coroscope/output.hpp"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace coroscope::tool {

namespace {

using triage::Finding;
using triage::Group;

const char *const Usage =
    "usage: coroscope triage [--format=text|sarif] [-o FILE]\n"
    "                        [--source-root DIR] INPUT...\n"
    "\n"
    "Reads clang-tidy's output (a log of its warnings and notes) or the YAML\n"
    "that its --export-fixes wrote, keeps the coro-* findings, and groups\n"
    "them by root cause: the blocking function a chain ends in, the task\n"
    "type, the lock. Groups come largest first, with example sites and the\n"
    ".clang-tidy option lines that would accept them. INPUT - is stdin.\n"
    "--format=sarif writes every finding as SARIF 2.1.0 for code scanning,\n"
    "its locations relative to --source-root (default: the enclosing git\n"
    "work tree, else the current directory) as %SRCROOT%.\n"
    "\n"
    "Exit status: 0 success (findings or not), 2 bad input.\n";

int fail(const llvm::Twine &Message) {
  llvm::errs() << "coroscope triage: error: " << Message << "\n";
  return 2;
}

/// A site as the text output prints it: relative to the current directory
/// when under it, as the clang-tidy user typed the paths.
std::string location(const triage::Site &S) {
  static const std::string Current = [] {
    llvm::SmallString<256> Dir;
    llvm::sys::fs::current_path(Dir);
    return Dir.str().str() + "/";
  }();
  llvm::StringRef File = S.File;
  File.consume_front(Current);
  std::string Out = File.str();
  if (S.Line > 0)
    Out += ":" + std::to_string(S.Line) + ":" + std::to_string(S.Column);
  return Out;
}

constexpr size_t ExampleCount = 3;

void writeText(llvm::raw_ostream &OS, const std::vector<Group> &Groups,
               size_t FindingCount) {
  OS << FindingCount << " finding" << (FindingCount == 1 ? "" : "s") << " in "
     << Groups.size() << " group" << (Groups.size() == 1 ? "" : "s")
     << ", largest first\n";
  // Option values of one option are joined into one line.
  std::vector<std::pair<std::string, std::vector<std::string>>> Options;
  for (const Group &G : Groups) {
    const size_t N = G.Findings.size();
    OS << "\n"
       << G.Check << ": " << G.Cause.Title << ": " << N << " finding"
       << (N == 1 ? "" : "s") << "\n";
    for (size_t I = 0; I < std::min(N, ExampleCount); ++I)
      OS << "  " << location(G.Findings[I]->At) << ": "
         << G.Findings[I]->Message << "\n";
    if (N > ExampleCount)
      OS << "  ... and " << N - ExampleCount << " more\n";
    if (G.Cause.OptionValue.empty()) {
      OS << "  accept: " << G.Cause.Advice << "\n";
      continue;
    }
    OS << "  accept: " << G.Cause.Option << ": '" << G.Cause.OptionValue
       << "'\n";
    auto It = std::find_if(Options.begin(), Options.end(), [&](auto &Entry) {
      return Entry.first == G.Cause.Option;
    });
    if (It == Options.end())
      It = Options.insert(Options.end(), {G.Cause.Option, {}});
    if (!llvm::is_contained(It->second, G.Cause.OptionValue))
      It->second.push_back(G.Cause.OptionValue);
  }
  if (Options.empty())
    return;
  OS << "\n.clang-tidy lines that accept every group above that an option "
        "can accept:\nCheckOptions:\n";
  for (const auto &[Option, Values] : Options)
    OS << "  " << Option << ": '" << llvm::join(Values, ";") << "'\n";
}

llvm::StringRef ruleDescription(llvm::StringRef Check) {
  if (Check == "coro-blocking-call")
    return "A call that blocks the thread while a coroutine runs";
  if (Check == "coro-unawaited-task")
    return "A task or awaitable that is created and never awaited";
  if (Check == "coro-lock-across-suspend")
    return "A synchronous lock held across a coroutine suspension";
  if (Check == "coro-lock-order-inversion")
    return "Locks acquired in inconsistent orders";
  if (Check == "coro-dangling-reference")
    return "A reference a coroutine frame keeps after its object died";
  return "A coroscope finding";
}

void writeSarif(llvm::raw_ostream &OS, const std::vector<Group> &Groups,
                llvm::StringRef SourceRoot) {
  std::vector<sarif::Rule> Rules;
  llvm::StringMap<int64_t> RuleIndex;
  for (const Group &G : Groups)
    if (RuleIndex.try_emplace(G.Check, Rules.size()).second)
      Rules.push_back({G.Check, ruleDescription(G.Check).str()});
  sarif::writeLog(OS, "coroscope", Rules, SourceRoot, [&](auto &J) {
    for (const Group &G : Groups)
      for (const Finding *F : G.Findings)
        J.object([&] {
          J.attribute("ruleId", F->Check);
          J.attribute("ruleIndex", RuleIndex.lookup(F->Check));
          J.attribute("level", "warning");
          J.attributeObject("message",
                            [&] { J.attribute("text", F->Message); });
          J.attributeArray("locations", [&] {
            J.object([&] {
              sarif::writeLocation(J, F->At.File, F->At.Line, F->At.Column,
                                   SourceRoot);
            });
          });
          if (!F->Notes.empty())
            J.attributeArray("relatedLocations", [&] {
              for (size_t I = 0; I < F->Notes.size(); ++I)
                J.object([&] {
                  const triage::Note &N = F->Notes[I];
                  J.attribute("id", static_cast<int64_t>(I));
                  sarif::writeLocation(J, N.At.File, N.At.Line, N.At.Column,
                                       SourceRoot);
                  J.attributeObject("message",
                                    [&] { J.attribute("text", N.Message); });
                });
            });
          // Line-independent, so a dismissed finding stays dismissed when
          // the code around it moves.
          J.attributeObject("partialFingerprints", [&] {
            J.attribute(
                "coroscopeFinding/v1",
                llvm::utohexstr(llvm::xxh3_64bits(F->Check + "\n" + F->At.File +
                                                  "\n" + F->Message),
                                /*LowerCase=*/true));
          });
          J.attributeObject("properties",
                            [&] { J.attribute("rootCause", G.Cause.Title); });
        });
  });
}

} // namespace

int runTriage(const std::vector<std::string> &Args) {
  std::string Format = "text";
  OutputOptions Out;
  std::vector<std::string> Inputs;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef Arg = Args[I];
    if (Arg == "--help" || Arg == "-h") {
      std::fputs(Usage, stdout);
      return 0;
    }
    std::string Error;
    if (auto Value = optionValue(Args, I, "--format", "text or sarif", Error)) {
      if (!Error.empty())
        return fail(Error);
      Format = *Value;
      if (Format != "text" && Format != "sarif")
        return fail("unknown format '" + Format + "'; use text or sarif");
    } else if (takeOutputOption(Args, I, Out, Error)) {
      if (!Error.empty())
        return fail(Error);
    } else if (Arg.starts_with("-") && Arg != "-") {
      return fail("unknown option '" + Arg +
                  "'; run 'coroscope triage --help'");
    } else {
      Inputs.push_back(Arg.str());
    }
  }
  if (Inputs.empty())
    return fail("no input given: pass clang-tidy's output or --export-fixes "
                "YAML, or - for stdin");

  std::vector<Finding> Findings;
  for (const std::string &Input : Inputs) {
    auto Buffer = readInputFile(Input);
    if (!Buffer)
      return fail(llvm::toString(Buffer.takeError()));
    auto Read = triage::readFindings((*Buffer)->getBuffer(),
                                     Input == "-" ? "<stdin>" : Input);
    if (!Read)
      return fail(llvm::toString(Read.takeError()));
    for (Finding &F : *Read)
      Findings.push_back(std::move(F));
  }
  const std::vector<Group> Groups = groupFindings(Findings);

  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (Format == "sarif") {
    std::string Root;
    if (!sarif::resolveSourceRoot(Out.SourceRoot, Root))
      return fail("--source-root '" + Out.SourceRoot + "' does not exist");
    writeSarif(OS, Groups, Root);
  } else {
    writeText(OS, Groups, Findings.size());
  }
  OS.flush();
  if (std::string Error = writeOutput(Out.Output, Text); !Error.empty())
    return fail(Error);
  return 0;
}

} // namespace coroscope::tool
