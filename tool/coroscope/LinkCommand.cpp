//===- LinkCommand.cpp - coroscope link (and its alias lockgraph) ---------===//
//
// Reads the facts files the checks write (one per translation unit and
// check), links them into one program (WholeProgram.h) and reports what no
// single TU shows: coroutines that block through calls into other TUs, and
// lock-order cycles. With --baseline, says which findings are new, fixed or
// unchanged since a previous run. LinkReport.h writes the formats.
//
//===----------------------------------------------------------------------===//
#include "CommandLine.h"
#include "Commands.h"
#include "FactsFile.h"
#include "InputFile.h"
#include "LinkReport.h"
#include "LockGraph.h"
#include "Sarif.h"
#include "WholeProgram.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/BuryPointer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace coroscope::tool {

namespace {

using lockgraph::Cycle;

const char *const Usage =
    "usage: coroscope link [--format=text|json|sarif] [-o FILE]\n"
    "                      [--source-root DIR] [--baseline FILE] PATH...\n"
    "\n"
    "Links the facts files that coro-blocking-call and\n"
    "coro-lock-order-inversion write with their FactsDirectory option\n"
    "(*.blockfacts.json, *.lockfacts.json; a PATH is a file or a directory,\n"
    "searched recursively) and reports what only the whole program shows:\n"
    "coroutines that block through calls into other translation units, and\n"
    "lock-order cycles. Facts whose source files changed since they were\n"
    "written are refused as stale; their paths are relative to\n"
    "--source-root, by default the current directory. SARIF locations are\n"
    "relative to --source-root too (by default the enclosing git work tree).\n"
    "--baseline FILE: a previous `--format=json` result; findings are then\n"
    "new, fixed or unchanged, and only new ones fail the run. -o - is stdout.\n"
    "'coroscope lockgraph' is another name for this command.\n"
    "\n"
    "Exit status: 0 no finding (no new one with --baseline), 1 findings,\n"
    "2 bad input.\n";

struct Options {
  std::string Format = "text";
  OutputOptions Out;
  std::string Baseline;
  std::vector<std::string> Paths;
};

std::string Command = "link";

int fail(const llvm::Twine &Message) {
  llvm::errs() << "coroscope " << Command << ": error: " << Message << "\n";
  return 2;
}

/// What the staleness check needs of one facts file, kept after its
/// summaries went into the program.
struct FactsInputs {
  std::string Path;
  std::string TranslationUnit;
  std::vector<lockgraph::InputFact> Inputs;
};

/// Parses the files on every core, in batches that bound the memory parsed
/// facts take before they are linked, and adds them in path order; the next
/// batch is parsed while this thread adds the last one.
std::string readAll(const std::vector<std::string> &Files, link::Program &P,
                    std::vector<FactsInputs> &Kept,
                    std::vector<std::pair<std::string, std::string>> &Hashes) {
  const unsigned Workers = std::clamp<unsigned>(
      std::thread::hardware_concurrency(), 1,
      std::max<size_t>(1, std::min<size_t>(Files.size(), 8)));
  const size_t BatchSize = 128 * Workers;
  Hashes.resize(Files.size());
  struct Batch {
    std::vector<std::optional<lockgraph::Facts>> Parsed;
    std::vector<std::string> Errors;
  };
  auto Parse = [&](size_t Begin) {
    Batch B;
    const size_t End = std::min(Files.size(), Begin + BatchSize);
    B.Parsed.resize(End - Begin);
    B.Errors.resize(End - Begin);
    auto Read = [&](unsigned W) {
      for (size_t I = Begin + W; I < End; I += Workers) {
        auto Buffer = readInputFile(Files[I]);
        if (!Buffer) {
          B.Errors[I - Begin] = llvm::toString(Buffer.takeError());
          continue;
        }
        Hashes[I] = {Files[I], lockgraph::contentHash((*Buffer)->getBuffer())};
        llvm::Expected<lockgraph::Facts> Facts = lockgraph::readFacts(
            (*Buffer)->getBuffer(), lockgraph::SummaryForm::Packed);
        if (!Facts)
          B.Errors[I - Begin] =
              Files[I] + ": " + llvm::toString(Facts.takeError());
        else
          B.Parsed[I - Begin] = std::move(*Facts);
      }
    };
    std::vector<std::thread> Threads;
    for (unsigned W = 1; W < Workers; ++W)
      Threads.emplace_back(Read, W);
    Read(0);
    for (std::thread &T : Threads)
      T.join();
    return B;
  };
  std::future<Batch> Next = std::async(std::launch::async, Parse, 0);
  std::future<void> Freed;
  for (size_t Begin = 0; Begin < Files.size(); Begin += BatchSize) {
    Batch Current = Next.get();
    if (Begin + BatchSize < Files.size())
      Next = std::async(std::launch::async, Parse, Begin + BatchSize);
    for (size_t I = 0; I < Current.Parsed.size(); ++I) {
      if (!Current.Errors[I].empty()) {
        if (Next.valid())
          Next.wait(); // it writes Hashes
        return Current.Errors[I];
      }
      lockgraph::Facts &Facts = *Current.Parsed[I];
      Kept.push_back(
          {Files[Begin + I], Facts.TranslationUnit, std::move(Facts.Inputs)});
      P.add(std::move(Facts));
    }
    // What add() left of the batch is freed beside the next one.
    if (Freed.valid())
      Freed.wait();
    Freed = std::async(std::launch::async, [B = std::move(Current)]() mutable {
      Batch Gone(std::move(B));
    });
  }
  return "";
}

/// "facts of 'src/a.cpp' are stale: ..." for each TU whose inputs changed.
std::vector<std::string> staleFacts(const std::vector<FactsInputs> &Kept,
                                    const std::string &Root,
                                    size_t &Unverified) {
  llvm::StringMap<std::optional<std::string>> Hashes;
  std::vector<std::string> Result;
  std::set<std::string> Reported;
  for (const FactsInputs &F : Kept)
    for (const lockgraph::InputFact &In : F.Inputs) {
      llvm::SmallString<256> Path(In.File);
      if (!llvm::sys::path::is_absolute(Path)) {
        Path = Root;
        llvm::sys::path::append(Path, In.File);
      }
      auto [It, New] = Hashes.try_emplace(Path);
      if (New) {
        if (auto Buffer = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                                      /*RequiresNull=*/false))
          It->second = lockgraph::contentHash((*Buffer)->getBuffer());
      }
      if (!It->second) {
        ++Unverified;
        continue;
      }
      if (*It->second != In.Hash &&
          Reported.insert(F.TranslationUnit + "\n" + In.File).second)
        Result.push_back("facts of '" + F.TranslationUnit + "' (" + F.Path +
                         ") are stale: '" + In.File +
                         "' changed since they were written; run the checks "
                         "on it again");
    }
  return Result;
}

} // namespace

int runLink(const std::vector<std::string> &Args, llvm::StringRef Name) {
  Command = Name.str();
  Options O;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef Arg = Args[I];
    if (Arg == "--help" || Arg == "-h") {
      std::fputs(Usage, stdout);
      return 0;
    }
    std::string Error;
    if (Arg.consume_front("--format=")) {
      O.Format = Arg.str();
      if (O.Format != "text" && O.Format != "json" && O.Format != "sarif")
        return fail("unknown format '" + O.Format +
                    "'; use text, json or sarif");
    } else if (takeOutputOption(Args, I, O.Out, Error)) {
      if (!Error.empty())
        return fail(Error);
    } else if (auto Value = optionValue(Args, I, "--baseline",
                                        "a previous result", Error)) {
      if (!Error.empty())
        return fail(Error);
      O.Baseline = *Value;
    } else if (!Error.empty()) {
      return fail(Error);
    } else if (Arg.starts_with("-") && Arg != "-") {
      return fail("unknown option '" + Arg + "'; run 'coroscope " + Command +
                  " --help'");
    } else {
      O.Paths.push_back(Arg.str());
    }
  }
  if (O.Paths.empty())
    return fail("no facts file or directory given; run 'coroscope " + Command +
                " --help'");

  // Every facts file, sorted: the result does not depend on directory order.
  std::vector<std::string> Files;
  for (const std::string &Path : O.Paths) {
    bool IsDirectory = false;
    if (std::error_code EC = llvm::sys::fs::is_directory(Path, IsDirectory))
      return fail(Path + ": " + EC.message());
    if (!IsDirectory) {
      Files.push_back(Path);
      continue;
    }
    std::error_code EC;
    for (llvm::sys::fs::recursive_directory_iterator It(Path, EC), End;
         It != End && !EC; It.increment(EC)) {
      llvm::StringRef File = It->path();
      if (File.ends_with(".lockfacts.json") ||
          File.ends_with(".blockfacts.json"))
        Files.push_back(It->path());
    }
    if (EC)
      return fail(Path + ": " + EC.message());
  }
  std::sort(Files.begin(), Files.end());
  Files.erase(std::unique(Files.begin(), Files.end()), Files.end());

  std::optional<Baseline> Previous;
  if (!O.Baseline.empty()) {
    llvm::Expected<Baseline> Read = readBaseline(O.Baseline);
    if (!Read)
      return fail(llvm::toString(Read.takeError()));
    Previous = std::move(*Read);
  }
  std::string Root;
  if (!sarif::resolveSourceRoot(O.Out.SourceRoot, Root))
    return fail("--source-root '" + O.Out.SourceRoot + "' does not exist");

  // A large program's summaries take a while to free; the process is about
  // to end, so it does not.
  auto Owned = std::make_unique<link::Program>();
  link::Program &Program = *Owned;
  llvm::BuryPointer(std::move(Owned));
  std::vector<FactsInputs> Inputs;
  std::vector<std::pair<std::string, std::string>> FactsHashes;
  if (std::string Error = readAll(Files, Program, Inputs, FactsHashes);
      !Error.empty())
    return fail(Error);
  // Facts spell inputs relative to FactsRoot; without --source-root that
  // is where the checks ran, as a rule the current directory.
  size_t Unverified = 0;
  llvm::SmallString<256> InputsRoot;
  if (!O.Out.SourceRoot.empty())
    InputsRoot = Root;
  else
    llvm::sys::fs::current_path(InputsRoot);
  std::vector<std::string> Stale =
      staleFacts(Inputs, std::string(InputsRoot), Unverified);
  if (!Stale.empty()) {
    for (const std::string &Line : Stale)
      llvm::errs() << "coroscope " << Command << ": error: " << Line << "\n";
    return 2;
  }
  // One line per name and pair of TUs: a template's instantiations differ
  // together.
  std::set<std::string> Said;
  for (const link::Mismatch &M : Program.mismatches())
    if (Said.insert(M.Name + "\n" + M.FirstUnit + "\n" + M.SecondUnit).second)
      llvm::errs() << "coroscope " << Command << ": warning: '" << M.Name
                   << "' is summarised from different text by "
                   << (M.FirstUnit == M.SecondUnit
                           ? "two facts files of " + M.FirstUnit
                           : M.FirstUnit + " and " + M.SecondUnit)
                   << "; facts are stale, or the files belong to different "
                      "programs (link each program's facts apart); the "
                      "first is used\n";

  Program.link();
  const std::vector<Cycle> Cycles = Program.orders().cycles();
  std::vector<Finding> All = findings(Program, Cycles);

  std::vector<std::pair<std::string, std::string>> Fixed;
  std::vector<std::string> Affected;
  size_t New = All.size(), Unchanged = 0, ChangedFiles = 0;
  if (Previous) {
    std::set<std::string> Current;
    New = 0;
    for (Finding &F : All) {
      Current.insert(F.Fingerprint);
      F.Status = Previous->Findings.count(F.Fingerprint) ? "unchanged" : "new";
      (F.Status == "new" ? New : Unchanged) += 1;
    }
    for (const auto &[Fingerprint, Entry] : Previous->Findings)
      if (!Current.count(Fingerprint))
        Fixed.push_back(Entry);
    // What the change can have affected: the functions that reach, through
    // calls, a summary from a facts file that is new or changed.
    std::set<std::string> ChangedUnits;
    for (size_t I = 0; I < FactsHashes.size(); ++I) {
      auto It = Previous->FactsHashes.find(FactsHashes[I].first);
      if (It == Previous->FactsHashes.end() ||
          It->second != FactsHashes[I].second) {
        ChangedUnits.insert(Inputs[I].TranslationUnit);
        ++ChangedFiles;
      }
    }
    for (const auto &[Path, Hash] : Previous->FactsHashes)
      if (!std::binary_search(Files.begin(), Files.end(), Path))
        ++ChangedFiles; // removed
    Affected = Program.affectedBy(ChangedUnits);
  }

  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (O.Format == "json")
    writeJson(OS, Program, All, FactsHashes, Fixed,
              Previous ? &Affected : nullptr);
  else if (O.Format == "sarif")
    writeSarif(OS, All, Root);
  else
    writeText(OS, All, /*OnlyNew=*/Previous.has_value());
  OS.flush();
  if (std::string Error = writeOutput(O.Out.Output, Text); !Error.empty())
    return fail(Error);

  link::Totals T = Program.totals();
  size_t BlockingCount = Program.blocking().size();
  llvm::errs() << BlockingCount << " blocking chain"
               << (BlockingCount == 1 ? "" : "s")
               << " across translation units, " << Cycles.size()
               << " lock-order cycle" << (Cycles.size() == 1 ? "" : "s")
               << " among " << Program.locks().size() << " locks ("
               << Program.orders().size() << " orders) in " << T.Units
               << " translation unit" << (T.Units == 1 ? "" : "s") << "\n";
  if (Unverified)
    llvm::errs() << Unverified << " input file" << (Unverified == 1 ? "" : "s")
                 << " of the facts not found under " << InputsRoot
                 << ": not checked for staleness\n";
  if (Previous) {
    llvm::errs() << ChangedFiles << " facts file"
                 << (ChangedFiles == 1 ? "" : "s")
                 << " changed since the baseline; " << Affected.size()
                 << " function" << (Affected.size() == 1 ? "" : "s")
                 << " depend on them\n"
                 << New << " new, " << Fixed.size() << " fixed, " << Unchanged
                 << " unchanged since " << O.Baseline << "\n";
    for (const auto &[Check, Message] : Fixed)
      llvm::errs() << "fixed: " << Message << " [" << Check << "]\n";
    return New ? 1 : 0;
  }
  return All.empty() ? 0 : 1;
}

} // namespace coroscope::tool
