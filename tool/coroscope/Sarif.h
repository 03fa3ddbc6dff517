//===- Sarif.h - SARIF 2.1.0 logs for code scanning -----------------------===//
//
// What `link --format=sarif` and `triage --format sarif` share: the log
// around one run, and locations relative to %SRCROOT% so that GitHub code
// scanning can match them to the repository.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_SARIF_H
#define COROSCOPE_TOOL_SARIF_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace coroscope::tool::sarif {

struct Rule {
  std::string Id;
  std::string Description;
};

/// The nearest directory at or above \p Start that holds .git, else Start.
std::string defaultSourceRoot(llvm::StringRef Start);

/// The absolute, symlink-free source root: \p Requested, or the default
/// for the current directory when it is empty. False when it does not exist.
bool resolveSourceRoot(llvm::StringRef Requested, std::string &Root);

/// A `physicalLocation` attribute: relative paths, and absolute ones under
/// \p SourceRoot, are %SRCROOT%-relative URIs; others are file:// URIs.
void writeLocation(llvm::json::OStream &J, llvm::StringRef File, int64_t Line,
                   int64_t Column, llvm::StringRef SourceRoot);

/// A whole log with one run of \p ToolName: its rules, the %SRCROOT% base
/// and the results that \p Results writes as array elements.
void writeLog(llvm::raw_ostream &OS, llvm::StringRef ToolName,
              llvm::ArrayRef<Rule> Rules, llvm::StringRef SourceRoot,
              llvm::function_ref<void(llvm::json::OStream &)> Results);

} // namespace coroscope::tool::sarif

#endif
