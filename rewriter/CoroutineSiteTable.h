//===--- CoroutineSiteTable.h - the IR engine's sites, from the AST -*- C++
//-*-===//
//
// The IR engine parses once. Its AST consumer runs before code generation
// and records, for each coroutine the translation unit defines (template
// instantiations and lambdas included), what the IR cannot tell: the name
// reports give it, its file, and for each suspension, keyed by the line and
// column of its keyword (the location clang gives the suspension in the IR),
// its kind and what it waits for. SuspensionHooksPass instruments exactly
// the coroutines in the table: library code, files outside the header
// filter and bodies the source engine already instrumented are left out.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_COROUTINESITETABLE_H
#define COROSCOPE_REWRITER_COROUTINESITETABLE_H

#include "Instrumenter.h"

#include "clang/AST/ASTConsumer.h"
#include "llvm/ADT/StringMap.h"
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace coroscope::rewriter {

/// A suspension's kind and what it waits for: coroscope::site_kind and
/// coroscope::awaits values (coroscope/ir_abi.h).
struct SuspensionInfo {
  std::uint8_t Kind;
  std::uint8_t Waits;
  /// Written in a macro: reported at the expansion's line, without a
  /// column, as the source engine reports it.
  bool InMacro;
};

/// A call in the body that creates a coroutine, reported at Line:Column.
/// One awaited or yielded at once is created where it is awaited: Line and
/// Column are then that suspension's, and its site is the suspension's.
struct CreationInfo {
  unsigned Line, Column;
  bool AtSuspension;
};

struct CoroutineInfo {
  std::string Function; // as reports name it
  std::string File;     // as the source engine's sites name it
  unsigned Line = 0, Column = 0;
  /// By the presumed line and column of the keyword's expansion.
  std::map<std::pair<unsigned, unsigned>, SuspensionInfo> Suspensions;
  /// By each line and column code generation may give the call: where it
  /// begins, or where its callee is named (`object.member(...)`).
  std::map<std::pair<unsigned, unsigned>, CreationInfo> Creations;
};

/// Found by where the coroutine is declared, which is where clang puts its
/// initial suspension in the IR, and by its symbol. The symbol alone would
/// do but for lambdas: code generation numbers the lambdas of a function
/// (`$_2`) in an order of its own.
class CoroutineSiteTable {
public:
  void add(std::string Symbol, llvm::StringRef FileName, unsigned Line,
           unsigned Column, CoroutineInfo Info);
  /// The coroutine \p Symbol whose initial suspension is at \p FileName
  /// (compared without directories), \p Line and \p Column; null if none.
  const CoroutineInfo *find(llvm::StringRef Symbol, llvm::StringRef FileName,
                            unsigned Line, unsigned Column) const;

private:
  using Place = std::tuple<std::string, unsigned, unsigned>;
  static Place placeOf(llvm::StringRef FileName, unsigned Line,
                       unsigned Column);
  std::vector<std::pair<Place, CoroutineInfo>> Coroutines;
  llvm::StringMap<unsigned> BySymbol;
  /// The first at each place: a template's instantiations share theirs.
  std::map<Place, unsigned> ByPlace;
};

/// Fills \p Table when the translation unit \p InFile is complete, before
/// code generation (the consumer must come before it).
std::unique_ptr<clang::ASTConsumer>
makeCoroutineSiteConsumer(llvm::StringRef InFile, const Options &Opts,
                          std::shared_ptr<CoroutineSiteTable> Table);

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_COROUTINESITETABLE_H
