//===--- CompileDatabase.cpp - compile databases that cannot abort a run --===//

#include "CompileDatabase.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include <mutex>

namespace coroscope::tool {

using clang::tooling::CompilationDatabase;
using clang::tooling::CompileCommand;

std::atomic<unsigned> CheckedDatabase::Problems{0};

namespace {

bool isInstrumentationFlag(llvm::StringRef Arg) {
  if (Arg.starts_with("-fplugin-arg-coroscope-"))
    return true;
  return Arg.consume_front("-fplugin=") &&
         llvm::sys::path::filename(Arg).starts_with("libcoroscope-instrument");
}

/// Each dropped entry is named once, however often a file is asked for.
bool firstReport(const std::string &Key) {
  static std::mutex Lock;
  static llvm::StringSet<> Seen;
  std::lock_guard<std::mutex> Guard(Lock);
  return Seen.insert(Key).second;
}

} // namespace

void removeInstrumentationFlags(CompileCommand &Command) {
  llvm::erase_if(Command.CommandLine, isInstrumentationFlag);
}

CheckedDatabase::CheckedDatabase(std::unique_ptr<CompilationDatabase> Inner,
                                 std::string Tool, std::string Origin)
    : Inner(std::move(Inner)), Tool(std::move(Tool)),
      Origin(std::move(Origin)) {}

std::vector<CompileCommand>
CheckedDatabase::check(std::vector<CompileCommand> Commands) const {
  std::vector<CompileCommand> Kept;
  for (CompileCommand &Command : Commands) {
    if (!llvm::sys::fs::is_directory(Command.Directory)) {
      ++Problems;
      if (firstReport(Command.Directory + "\n" + Command.Filename))
        llvm::errs() << Tool << ": error: the compile command for '"
                     << Command.Filename << "' in " << Origin << " runs in '"
                     << Command.Directory
                     << "', which does not exist; skipped\n";
      continue;
    }
    removeInstrumentationFlags(Command);
    Kept.push_back(std::move(Command));
  }
  return Kept;
}

std::vector<CompileCommand>
CheckedDatabase::getCompileCommands(llvm::StringRef FilePath) const {
  std::vector<CompileCommand> Commands = Inner->getCompileCommands(FilePath);
  if (Commands.empty() && Inner->getAllFiles().empty()) {
    ++Problems;
    if (firstReport("empty\n" + Origin))
      llvm::errs() << Tool << ": error: " << Origin << " has no entries\n";
  }
  return check(std::move(Commands));
}

std::vector<std::string> CheckedDatabase::getAllFiles() const {
  return Inner->getAllFiles();
}

std::vector<CompileCommand> CheckedDatabase::getAllCompileCommands() const {
  return check(Inner->getAllCompileCommands());
}

std::unique_ptr<CompilationDatabase>
loadCheckedJsonDatabase(llvm::StringRef Directory, llvm::StringRef Tool,
                        std::string &Error) {
  llvm::SmallString<256> Path(Directory);
  llvm::sys::path::append(Path, "compile_commands.json");
  std::unique_ptr<CompilationDatabase> Base =
      clang::tooling::JSONCompilationDatabase::loadFromFile(
          Path, Error, clang::tooling::JSONCommandLineSyntax::AutoDetect);
  if (!Base)
    return nullptr;
  // The same layers as clang's own JSON plugin.
  Base = clang::tooling::inferTargetAndDriverMode(
      clang::tooling::inferMissingCompileCommands(
          clang::tooling::expandResponseFiles(std::move(Base),
                                              llvm::vfs::getRealFileSystem())));
  return std::make_unique<CheckedDatabase>(std::move(Base), Tool.str(),
                                           "'" + std::string(Path) + "'");
}

} // namespace coroscope::tool
