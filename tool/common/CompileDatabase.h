//===--- CompileDatabase.h - compile databases that cannot abort a run ----===//
//
// A stale compile_commands.json names directories that no longer exist, and
// ClangTool aborts the whole process when it cannot enter one. Commands read
// through CheckedDatabase never do: an entry whose directory is missing is
// dropped with one error line, and the run goes on with the others.
//
// It also removes coroscope's own instrumentation-plugin flags
// (-fplugin=.../libcoroscope-instrument.so, -fplugin-arg-coroscope-*): a
// build that uses coroscope_instrument() records them, and a tool that
// parses the code has no use for them.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_TOOL_COMPILEDATABASE_H
#define COROSCOPE_TOOL_COMPILEDATABASE_H

#include "clang/Tooling/CompilationDatabase.h"
#include <atomic>
#include <memory>
#include <string>

namespace coroscope::tool {

class CheckedDatabase : public clang::tooling::CompilationDatabase {
public:
  /// \p Tool prefixes error lines ("coroscope-tidy"); \p Origin names the
  /// database in them.
  CheckedDatabase(std::unique_ptr<clang::tooling::CompilationDatabase> Inner,
                  std::string Tool, std::string Origin);

  std::vector<clang::tooling::CompileCommand>
  getCompileCommands(llvm::StringRef FilePath) const override;
  std::vector<std::string> getAllFiles() const override;
  std::vector<clang::tooling::CompileCommand>
  getAllCompileCommands() const override;

  /// Entries dropped so far by every CheckedDatabase, and empty databases
  /// asked for a file: a run that saw any must not exit 0.
  static unsigned problems() { return Problems.load(); }

private:
  std::vector<clang::tooling::CompileCommand>
  check(std::vector<clang::tooling::CompileCommand> Commands) const;

  std::unique_ptr<clang::tooling::CompilationDatabase> Inner;
  std::string Tool, Origin;
  static std::atomic<unsigned> Problems;
};

/// Removes coroscope's instrumentation-plugin flags from \p Command.
void removeInstrumentationFlags(clang::tooling::CompileCommand &Command);

/// compile_commands.json in \p Directory, loaded as clang's JSON plugin
/// does and wrapped in a CheckedDatabase.
std::unique_ptr<clang::tooling::CompilationDatabase>
loadCheckedJsonDatabase(llvm::StringRef Directory, llvm::StringRef Tool,
                        std::string &Error);

} // namespace coroscope::tool

#endif // COROSCOPE_TOOL_COMPILEDATABASE_H
