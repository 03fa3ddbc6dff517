//===--- CoroscopeTidyMain.cpp - clang-tidy with the coro module ----------===//
//
// Upstream clang-tidy's driver, so every clang-tidy flag works. The coro
// module registers itself from the linked-in checks objects. Additions, all
// about the compilation database clang-tidy is about to use:
//   - an explicit -p that holds no usable compilation database, or a
//     database with no entries, is an error instead of a silent fall-back
//     or "Skipping ...";
//   - a source whose compile command runs in a directory that no longer
//     exists (a stale database) is skipped with one error line instead of
//     aborting the whole run in ClangTool; the others are still checked, and
//     the exit status is 1.
//
//===----------------------------------------------------------------------===//

#include "clang-tidy/tool/ClangTidyMain.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using clang::tooling::CompilationDatabase;

/// The value of -p / --p, unless a fixed database (after "--") is given.
std::optional<std::string> explicitBuildPath(int Argc, const char **Argv) {
  std::optional<std::string> BuildPath;
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef Arg = Argv[I];
    if (Arg == "--")
      return std::nullopt;
    if ((Arg == "-p" || Arg == "--p") && I + 1 < Argc) {
      BuildPath = Argv[++I];
    } else if (Arg.consume_front("-p=") || Arg.consume_front("--p=")) {
      BuildPath = Arg.str();
    }
  }
  return BuildPath;
}

bool hasFixedDatabase(int Argc, const char **Argv) {
  for (int I = 1; I < Argc; ++I)
    if (llvm::StringRef(Argv[I]) == "--")
      return true;
  return false;
}

/// Arguments that may be the sources clang-tidy checks: existing regular
/// files that are not an option's value we know of. An option value that is
/// a file can only be dropped if the database has a stale entry for it, so
/// guessing wrong costs nothing.
std::vector<int> sourceArguments(int Argc, const char **Argv) {
  std::vector<int> Sources;
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef Arg = Argv[I];
    if (Arg == "--")
      break;
    if (Arg == "-p" || Arg == "--p") {
      ++I;
      continue;
    }
    if (Arg.starts_with("-"))
      continue;
    llvm::sys::fs::file_status Status;
    if (!llvm::sys::fs::status(Arg, Status) &&
        Status.type() == llvm::sys::fs::file_type::regular_file)
      Sources.push_back(I);
  }
  return Sources;
}

/// The database clang-tidy will load: the one in -p, else the one found
/// from the first source, as CommonOptionsParser does. Null when none.
/// \p Origin names it for messages: its compile_commands.json when it is one.
std::unique_ptr<CompilationDatabase>
findDatabase(const std::optional<std::string> &BuildPath,
             llvm::StringRef FirstSource, std::string &Origin) {
  std::string Error;
  std::string Start = BuildPath ? *BuildPath : FirstSource.str();
  if (Start.empty())
    return nullptr;
  llvm::SmallString<256> Dir(Start);
  llvm::sys::fs::make_absolute(Dir);
  llvm::sys::path::remove_dots(Dir, /*remove_dot_dot=*/true);
  if (!BuildPath)
    llvm::sys::path::remove_filename(Dir);
  for (llvm::StringRef D = Dir; !D.empty();
       D = llvm::sys::path::parent_path(D)) {
    llvm::SmallString<256> Json(D);
    llvm::sys::path::append(Json, "compile_commands.json");
    if (llvm::sys::fs::exists(Json)) {
      Origin = "'" + std::string(Json) + "'";
      break;
    }
    if (BuildPath)
      break; // -p names the directory itself
  }
  if (Origin.empty())
    Origin = "the compilation database for '" + Start + "'";
  return BuildPath
             ? CompilationDatabase::autoDetectFromDirectory(*BuildPath, Error)
             : CompilationDatabase::autoDetectFromSource(FirstSource, Error);
}

} // namespace

int main(int Argc, const char **Argv) {
  std::optional<std::string> BuildPath = explicitBuildPath(Argc, Argv);
  if (BuildPath) {
    // A compile_commands.json in the directory itself is read directly: a
    // broken one is an error here, where auto-detection would quietly fall
    // back to a parent directory's database.
    llvm::SmallString<256> JsonPath(*BuildPath);
    llvm::sys::path::append(JsonPath, "compile_commands.json");
    std::string Error;
    if (llvm::sys::fs::exists(JsonPath)) {
      if (!clang::tooling::JSONCompilationDatabase::loadFromFile(
              JsonPath, Error,
              clang::tooling::JSONCommandLineSyntax::AutoDetect)) {
        llvm::errs() << "coroscope-tidy: error: cannot read '" << JsonPath
                     << "': " << llvm::StringRef(Error).trim() << "\n";
        return 1;
      }
    } else if (!CompilationDatabase::autoDetectFromDirectory(*BuildPath,
                                                             Error)) {
      llvm::StringRef Reason = llvm::StringRef(Error).trim();
      Reason = Reason.take_until([](char C) { return C == '\n'; });
      llvm::errs() << "coroscope-tidy: error: no usable compilation database "
                      "in '"
                   << *BuildPath << "'" << (Reason.empty() ? "" : ": ")
                   << Reason << "\n";
      return 1;
    }
  }

  std::vector<const char *> Args(Argv, Argv + Argc);
  unsigned Skipped = 0;
  if (!hasFixedDatabase(Argc, Argv)) {
    std::vector<int> Sources = sourceArguments(Argc, Argv);
    std::string Origin;
    std::unique_ptr<CompilationDatabase> Database = findDatabase(
        BuildPath, Sources.empty() ? "" : Argv[Sources.front()], Origin);
    if (Database && Database->getAllFiles().empty()) {
      llvm::errs() << "coroscope-tidy: error: " << Origin
                   << " has no entries\n";
      return 1;
    }
    std::vector<bool> Drop(Argc, false);
    for (int I : Database ? Sources : std::vector<int>()) {
      llvm::SmallString<256> Absolute(Argv[I]);
      llvm::sys::fs::make_absolute(Absolute);
      for (const clang::tooling::CompileCommand &Command :
           Database->getCompileCommands(Absolute)) {
        if (llvm::sys::fs::is_directory(Command.Directory))
          continue;
        llvm::errs() << "coroscope-tidy: error: the compile command for '"
                     << Argv[I] << "' runs in '" << Command.Directory
                     << "', which does not exist; skipped\n";
        Drop[I] = true;
        ++Skipped;
        break;
      }
    }
    if (Skipped != 0) {
      Args.clear();
      for (int I = 0; I < Argc; ++I)
        if (!Drop[I])
          Args.push_back(Argv[I]);
      if (Skipped == Sources.size())
        return 1;
    }
  }
  int Status =
      clang::tidy::clangTidyMain(static_cast<int>(Args.size()), Args.data());
  return Status == 0 && Skipped != 0 ? 1 : Status;
}
