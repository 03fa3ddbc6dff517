//===--- CoroscopeTidyMain.cpp - clang-tidy with the coro module ----------===//
//
// Upstream clang-tidy's driver, so every clang-tidy flag works. The coro
// module registers itself from the linked-in checks objects. One addition:
// an explicit -p that holds no usable compilation database is an error
// instead of a silent fall-back to compiling without flags.
//
//===----------------------------------------------------------------------===//

#include "clang-tidy/tool/ClangTidyMain.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>
#include <string>

namespace {

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

} // namespace

int main(int Argc, const char **Argv) {
  if (std::optional<std::string> BuildPath = explicitBuildPath(Argc, Argv)) {
    // A compile_commands.json in the directory itself is read directly: a
    // broken one is an error here, where auto-detection would quietly fall
    // back to a parent directory's database. A good one is then not read a
    // second time by auto-detection.
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
    } else if (!clang::tooling::CompilationDatabase::autoDetectFromDirectory(
                   *BuildPath, Error)) {
      llvm::StringRef Reason = llvm::StringRef(Error).trim();
      Reason = Reason.take_until([](char C) { return C == '\n'; });
      llvm::errs() << "coroscope-tidy: error: no usable compilation database "
                      "in '"
                   << *BuildPath << "'" << (Reason.empty() ? "" : ": ")
                   << Reason << "\n";
      return 1;
    }
  }
  return clang::tidy::clangTidyMain(Argc, Argv);
}
