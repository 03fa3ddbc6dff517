//===- InstrumentCommand.cpp - coroscope instrument -----------------------===//
//
// The source-to-source way in: parse each file with its compile command, ask
// the rewriter engine for the insertions, and write, print or export them.
// `--strip` undoes it, byte for byte, with no compile command needed.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "CompileDatabase.h"
#include "InputFile.h"
#include "Instrumenter.h"
#include "coroscope/output.hpp"

#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Core/Replacement.h"
#include "clang/Tooling/ReplacementsYaml.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/YAMLTraits.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace coroscope::tool {
namespace {

using rewriter::EditSet;
using rewriter::FileEdits;

const char *const InstrumentUsage =
    "usage: coroscope instrument [options] FILE... [-- COMPILE-FLAGS]\n"
    "\n"
    "output (one of; default --diff):\n"
    "  --in-place            rewrite the files\n"
    "  --out-dir DIR         write the files under DIR, mirroring --root\n"
    "  --diff                print a unified diff\n"
    "  --export-fixes FILE   write clang-apply-replacements YAML\n"
    "options:\n"
    "  -p DIR                directory of compile_commands.json\n"
    "  --strip               remove the instrumentation instead\n"
    "  --header-filter REGEX instrument headers whose path matches "
    "(default .*)\n"
    "  --library-namespaces NS;NS...\n"
    "                        coroutines in these namespaces are a library's "
    "and\n"
    "                        not tracked (default "
    "std;__gnu_cxx;__cxxabiv1;asio;boost;folly)\n"
    "  --library-paths REGEX nor are those in files whose path matches "
    "(default:\n"
    "                        third_party, vendor, external, _deps "
    "directories)\n"
    "  --root DIR            never write outside DIR (default: the current "
    "directory)\n"
    "  --quiet               no per-file summary\n";

struct Request {
  enum class Mode { Diff, InPlace, OutDir, ExportFixes } Output = Mode::Diff;
  std::string OutDir, FixesFile, BuildDir, Root;
  bool Strip = false, Quiet = false, ModeGiven = false;
  rewriter::Options Opts;
  std::vector<std::string> Files;
  std::optional<std::vector<std::string>> CompileFlags;
};

int fail(const llvm::Twine &Message, int Code = 1) {
  llvm::errs() << "coroscope: error: " << Message << "\n";
  return Code;
}

/// Parses the command line; returns an exit code when it is not usable.
std::optional<int> parse(const std::vector<std::string> &Args, Request &R) {
  auto setMode = [&](Request::Mode M) {
    if (R.ModeGiven && R.Output != M)
      return false;
    R.Output = M;
    R.ModeGiven = true;
    return true;
  };
  for (size_t I = 0; I < Args.size(); ++I) {
    const std::string &A = Args[I];
    auto value = [&]() -> const std::string * {
      return I + 1 < Args.size() ? &Args[++I] : nullptr;
    };
    const std::string *V = nullptr;
    if (A == "--") {
      R.CompileFlags.emplace(Args.begin() + I + 1, Args.end());
      break;
    }
    if (A == "--help" || A == "-h") {
      std::fputs(InstrumentUsage, stdout);
      return 0;
    }
    bool Ok = true;
    if (A == "--in-place")
      Ok = setMode(Request::Mode::InPlace);
    else if (A == "--diff")
      Ok = setMode(Request::Mode::Diff);
    else if (A == "--out-dir" && (V = value()))
      Ok = setMode(Request::Mode::OutDir), R.OutDir = *V;
    else if (A == "--export-fixes" && (V = value()))
      Ok = setMode(Request::Mode::ExportFixes), R.FixesFile = *V;
    else if (A == "-p" && (V = value()))
      R.BuildDir = *V;
    else if (A == "--header-filter" && (V = value()))
      R.Opts.HeaderFilter = *V;
    else if (A == "--library-namespaces" && (V = value()))
      R.Opts.LibraryNamespaces = *V;
    else if (A == "--library-paths" && (V = value()))
      R.Opts.LibraryPaths = *V;
    else if (A == "--root" && (V = value()))
      R.Root = *V;
    else if (A == "--strip")
      R.Strip = true;
    else if (A == "--quiet")
      R.Quiet = true;
    else if (!A.empty() && A[0] == '-')
      return fail("unknown or incomplete option '" + A +
                      "'; run 'coroscope instrument --help'",
                  2);
    else
      R.Files.push_back(A);
    if (!Ok)
      return fail("choose one of --in-place, --out-dir, --diff and "
                  "--export-fixes",
                  2);
  }
  if (R.Files.empty())
    return fail("no input files; run 'coroscope instrument --help'", 2);
  std::string Error;
  if (!llvm::Regex(R.Opts.HeaderFilter).isValid(Error))
    return fail(
        "invalid --header-filter '" + R.Opts.HeaderFilter + "': " + Error, 2);
  if (std::optional<std::string> Problem =
          LibraryBoundary(R.Opts.LibraryNamespaces, R.Opts.LibraryPaths)
              .error())
    return fail(*Problem, 2);
  llvm::SmallString<256> Root(R.Root.empty() ? "." : R.Root);
  if (llvm::sys::fs::real_path(Root, Root))
    return fail("--root '" + R.Root + "' does not exist", 2);
  R.Root = std::string(Root);
  return std::nullopt;
}

/// The path under --root, or nullopt outside it.
std::optional<std::string> underRoot(const Request &R, llvm::StringRef Path) {
  llvm::SmallString<256> Real(Path);
  if (llvm::sys::fs::real_path(Path, Real))
    return std::nullopt;
  llvm::StringRef Rel = Real;
  if (!Rel.consume_front(R.Root) ||
      (!Rel.empty() && !llvm::sys::path::is_separator(Rel.front())))
    return std::nullopt;
  return Rel.ltrim("/").str();
}

/// Replaces \p Path atomically, keeping its permissions (output.hpp).
bool writeAtomically(llvm::StringRef Path, llvm::StringRef Text,
                     std::string &Error) {
  return output::write_file(Path.str(), Text, Error) == output::status::written;
}

std::vector<llvm::StringRef> linesOf(llvm::StringRef Text) {
  std::vector<llvm::StringRef> Lines;
  while (!Text.empty()) {
    size_t End = Text.find('\n');
    Lines.push_back(
        Text.take_front(End == llvm::StringRef::npos ? Text.size() : End + 1));
    Text = Text.drop_front(Lines.back().size());
  }
  return Lines;
}

/// A unified diff. Instrumentation keeps every original line on its line and
/// may add lines only at the top, so old line K is new line K + the number
/// of added lines; anything else is shown as one whole-file hunk.
void printDiff(llvm::raw_ostream &OS, llvm::StringRef Name, llvm::StringRef Old,
               llvm::StringRef New) {
  std::vector<llvm::StringRef> A = linesOf(Old), B = linesOf(New);
  OS << "--- a/" << Name << "\n+++ b/" << Name << "\n";
  auto line = [&](char Tag, llvm::StringRef L) {
    OS << Tag << L;
    if (!L.ends_with("\n"))
      OS << "\n\\ No newline at end of file\n";
  };
  if (B.size() < A.size()) {
    OS << "@@ -1," << A.size() << " +1," << B.size() << " @@\n";
    for (auto L : A)
      line('-', L);
    for (auto L : B)
      line('+', L);
    return;
  }
  size_t Added = B.size() - A.size();
  // Changed[K]: old line K differs (or, for K < 0, lines added on top).
  std::vector<size_t> Changed;
  for (size_t K = 0; K < A.size(); ++K)
    if (A[K] != B[K + Added])
      Changed.push_back(K);
  const size_t Context = 3;
  size_t I = 0;
  while (I < Changed.size() || (I == 0 && Added > 0)) {
    size_t First = I < Changed.size() ? Changed[I] : 0;
    if (Added > 0 && I == 0)
      First = 0;
    size_t Last = I < Changed.size() ? Changed[I] : 0;
    size_t J = I;
    while (J < Changed.size() && Changed[J] <= Last + 2 * Context + 1)
      Last = Changed[J++];
    size_t From = First > Context ? First - Context : 0;
    size_t To = std::min(A.size(), Last + Context + 1);
    size_t Top = (From == 0) ? Added : 0;
    OS << "@@ -" << From + 1 << "," << To - From << " +"
       << From + 1 + (From == 0 ? 0 : Added) << "," << To - From + Top
       << " @@\n";
    for (size_t K = 0; K < Top; ++K)
      line('+', B[K]);
    for (size_t K = From; K < To; ++K) {
      if (A[K] == B[K + Added]) {
        line(' ', A[K]);
      } else {
        line('-', A[K]);
        line('+', B[K + Added]);
      }
    }
    I = J == I ? I + 1 : J;
  }
}

/// Turns the edits into clang-apply-replacements YAML.
bool exportFixes(const Request &R, const EditSet &Edits,
                 const std::map<std::string, std::string> &Originals) {
  clang::tooling::TranslationUnitReplacements TU;
  TU.MainSourceFile = R.Files.front();
  for (const auto &[Path, File] : Edits) {
    auto It = Originals.find(Path);
    if (It == Originals.end())
      continue;
    // The new text minus the old, as insertions at their offsets.
    std::string New = rewriter::applyEdits(It->second, File);
    std::vector<rewriter::Insertion> Sorted = File.Insertions;
    llvm::sort(Sorted);
    size_t Prefix = New.size() - It->second.size();
    for (const auto &I : Sorted)
      Prefix -= I.Text.size();
    std::map<unsigned, std::string> At;
    if (Prefix)
      At[0] = New.substr(0, Prefix);
    for (const auto &I : Sorted)
      At[I.Offset] += I.Text;
    for (const auto &[Offset, Text] : At)
      TU.Replacements.emplace_back(Path, Offset, 0, Text);
  }
  std::string Text;
  {
    llvm::raw_string_ostream Out(Text);
    llvm::yaml::Output YAML(Out);
    YAML << TU;
  }
  std::string Error;
  if (!writeAtomically(R.FixesFile, Text, Error)) {
    fail("cannot write '" + R.FixesFile + "': " + Error);
    return false;
  }
  return true;
}

std::string makeAbsolute(llvm::StringRef Path) {
  llvm::SmallString<256> Absolute(Path);
  llvm::sys::fs::make_absolute(Absolute);
  return std::string(Absolute);
}

std::unique_ptr<clang::tooling::CompilationDatabase>
loadDatabase(const Request &R, std::string &Error) {
  using clang::tooling::CompilationDatabase;
  if (R.CompileFlags) {
    std::vector<const char *> Argv{"--"};
    for (const std::string &F : *R.CompileFlags)
      Argv.push_back(F.c_str());
    int Argc = static_cast<int>(Argv.size());
    return clang::tooling::FixedCompilationDatabase::loadFromCommandLine(
        Argc, Argv.data(), Error);
  }
  if (!R.BuildDir.empty()) {
    llvm::SmallString<256> Json(R.BuildDir);
    llvm::sys::path::append(Json, "compile_commands.json");
    if (!llvm::sys::fs::exists(Json)) {
      Error = "no compile_commands.json in '" + R.BuildDir + "'";
      return nullptr;
    }
    auto DB = loadCheckedJsonDatabase(R.BuildDir, "coroscope", Error);
    if (!DB)
      Error = "cannot read '" + std::string(Json) +
              "': " + llvm::StringRef(Error).trim().str();
    else if (DB->getAllFiles().empty())
      Error = "'" + std::string(Json) + "' has no entries";
    return Error.empty() ? std::move(DB) : nullptr;
  }
  std::string Found;
  const std::string First = makeAbsolute(R.Files.front());
  for (llvm::StringRef Dir = llvm::sys::path::parent_path(First); !Dir.empty();
       Dir = llvm::sys::path::parent_path(Dir)) {
    llvm::SmallString<256> Json(Dir);
    llvm::sys::path::append(Json, "compile_commands.json");
    if (llvm::sys::fs::exists(Json)) {
      Found = Dir.str();
      break;
    }
  }
  auto DB = Found.empty() ? nullptr
                          : loadCheckedJsonDatabase(Found, "coroscope", Error);
  if (!DB)
    Error = "no compilation database for '" + R.Files.front() +
            "'; pass -p BUILD-DIR or compile flags after '--'";
  return DB;
}

/// The diff goes to stdout in one write, so a full disk is an error.
int printed(const std::string &Diff, int Status) {
  std::string Error;
  if (!Diff.empty() &&
      output::write_file("-", Diff, Error) != output::status::written)
    return fail("cannot write the diff to <stdout>: " + Error);
  return Status;
}

int strip(const Request &R) {
  int Status = 0;
  std::string DiffText;
  llvm::raw_string_ostream Diff(DiffText);
  EditSet None;
  std::map<std::string, std::pair<std::string, std::string>> Results;
  for (const std::string &File : R.Files) {
    auto Buffer = readInputFile(File);
    if (!Buffer) {
      Status = fail(llvm::toString(Buffer.takeError()));
      continue;
    }
    std::string Error;
    std::optional<std::string> Clean =
        rewriter::stripInstrumentation((*Buffer)->getBuffer(), Error);
    if (!Clean) {
      Status = fail(File + ": " + Error + "; not stripped");
      continue;
    }
    Results[File] = {(*Buffer)->getBuffer().str(), std::move(*Clean)};
  }
  for (const auto &[File, Texts] : Results) {
    const auto &[Old, New] = Texts;
    if (R.Output == Request::Mode::Diff) {
      if (Old != New)
        printDiff(Diff, File, Old, New);
      continue;
    }
    if (R.Output == Request::Mode::ExportFixes)
      return fail("--strip does not export fixes; use --diff, --in-place or "
                  "--out-dir",
                  2);
    std::string Target = File;
    if (R.Output == Request::Mode::OutDir) {
      std::optional<std::string> Rel = underRoot(R, File);
      if (!Rel) {
        Status = fail("'" + File + "' is outside --root '" + R.Root + "'");
        continue;
      }
      Target = R.OutDir + "/" + *Rel;
      llvm::sys::fs::create_directories(llvm::sys::path::parent_path(Target));
    } else if (Old == New) {
      continue;
    }
    std::string Error;
    if (!writeAtomically(Target, New, Error))
      Status = fail("cannot write '" + Target + "': " + Error);
  }
  Diff.flush();
  return printed(DiffText, Status);
}

} // namespace

int runInstrument(const std::vector<std::string> &Args) {
  Request R;
  if (std::optional<int> Code = parse(Args, R))
    return *Code;
  if (R.Strip)
    return strip(R);

  std::string Error;
  std::unique_ptr<clang::tooling::CompilationDatabase> DB =
      loadDatabase(R, Error);
  if (!DB)
    return fail(Error);

  // Each file parses on its own, so one that does not compile is named and
  // the others are still instrumented.
  struct Factory : clang::tooling::FrontendActionFactory {
    const rewriter::Options &Opts;
    EditSet &Out;
    bool Succeeded = false;
    Factory(const rewriter::Options &Opts, EditSet &Out)
        : Opts(Opts), Out(Out) {}
    std::unique_ptr<clang::FrontendAction> create() override {
      return std::make_unique<rewriter::InstrumentAction>(Opts, Out, Succeeded);
    }
  };
  int Status = 0;
  EditSet Edits;
  std::vector<std::string> Parsed;
  for (const std::string &File : R.Files) {
    llvm::sys::fs::file_status FileStatus;
    if (llvm::sys::fs::status(File, FileStatus)) {
      Status = fail("'" + File + "' does not exist");
      continue;
    }
    if (FileStatus.type() != llvm::sys::fs::file_type::regular_file) {
      Status = fail("cannot read '" + File + "': not a regular file");
      continue;
    }
    unsigned ProblemsBefore = CheckedDatabase::problems();
    if (!R.CompileFlags && DB->getCompileCommands(File).empty()) {
      // A stale entry was named already.
      Status =
          CheckedDatabase::problems() != ProblemsBefore
              ? 1
              : fail("'" + File + "' has no entry in the compilation database");
      continue;
    }
    clang::tooling::ClangTool Tool(*DB, {File});
    EditSet FileEdits = Edits;
    Factory F(R.Opts, FileEdits);
    Tool.run(&F);
    if (!F.Succeeded) {
      Status = fail("'" + File + "' does not compile; not instrumented");
      continue;
    }
    Edits = std::move(FileEdits);
    Parsed.push_back(File);
  }

  std::string DiffText;
  llvm::raw_string_ostream Diff(DiffText);
  std::map<std::string, std::string> Originals;
  unsigned Coroutines = 0, Sites = 0, Locks = 0, Changed = 0;
  for (const auto &[Path, File] : Edits) {
    auto Buffer = readInputFile(Path);
    if (!Buffer) {
      Status = fail(llvm::toString(Buffer.takeError()));
      continue;
    }
    Originals[Path] = (*Buffer)->getBuffer().str();
    Coroutines += File.CoroutinesAt.size();
    Sites += File.SitesAt.size();
    Locks += File.LocksAt.size();
    if (!R.Quiet && (!File.CoroutinesAt.empty() || !File.SitesAt.empty() ||
                     !File.SkippedAt.empty()))
      llvm::errs() << "coroscope: " << rewriter::summarize(File) << "\n";
  }

  if (R.Output == Request::Mode::ExportFixes) {
    if (!exportFixes(R, Edits, Originals))
      return 1;
  } else {
    for (const auto &[Path, Original] : Originals) {
      const FileEdits &File = Edits[Path];
      std::string New = rewriter::applyEdits(Original, File);
      Changed += New != Original;
      if (R.Output == Request::Mode::Diff) {
        if (New != Original)
          printDiff(Diff, File.Name, Original, New);
        continue;
      }
      std::optional<std::string> Rel = underRoot(R, Path);
      if (!Rel) {
        if (New != Original)
          llvm::errs() << "coroscope: warning: '" << Path
                       << "' is outside --root '" << R.Root
                       << "'; not written\n";
        continue;
      }
      std::string Target = Path;
      if (R.Output == Request::Mode::OutDir) {
        Target = R.OutDir + "/" + *Rel;
        if (std::error_code EC = llvm::sys::fs::create_directories(
                llvm::sys::path::parent_path(Target))) {
          Status = fail("cannot create the directory of '" + Target +
                        "': " + EC.message());
          continue;
        }
      } else if (New == Original) {
        continue;
      }
      std::string Error;
      if (!writeAtomically(Target, New, Error))
        Status = fail("cannot write '" + Target + "': " + Error);
    }
  }
  if (!R.Quiet)
    llvm::errs() << "coroscope: " << Parsed.size() << " of " << R.Files.size()
                 << " files parsed; " << Coroutines << " coroutines, " << Sites
                 << " sites"
                 << (Locks ? ", " + std::to_string(Locks) + " lock operations"
                           : std::string())
                 << " instrumented\n";
  Diff.flush();
  return printed(DiffText, Status);
}

} // namespace coroscope::tool
