//===--- LockSiteTable.h - the IR engine's lock sites, from the AST -*- C++
//-*-===//
//
// What the IR cannot tell about a lock: its class (the name
// coro-lock-order-inversion gives it) and whether a call takes or releases
// it. The AST consumer records, for every function of the project's files
// (instantiations and lambdas included, library code left out), each lock
// guard construction and each manual lock, try_lock or unlock (LockSites.h),
// keyed by the file and
// each line and column code generation may give the call. LockHooksPass
// brackets exactly those calls with the runtime's lock hooks.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_LOCKSITETABLE_H
#define COROSCOPE_REWRITER_LOCKSITETABLE_H

#include "Instrumenter.h"
#include "LockSites.h"

#include "clang/AST/ASTConsumer.h"
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace coroscope::rewriter {

struct LockSiteInfo {
  LockOperation Operation;
  std::string LockClass; // "Store::mu_"
  std::string Function;  // as reports name it
  std::string File;      // as the source engine's sites name it
  unsigned Line = 0, Column = 0;
  std::uint8_t Kind = 0; // coroscope::lock_kind: mutex, shared
  /// For a call: the method (`try_lock_shared`) or pthread function called.
  std::string Callee;
};

class LockSiteTable {
public:
  /// Keeps \p Info; its address identifies the site, whichever of its
  /// places a call is found at.
  const LockSiteInfo &add(LockSiteInfo Info);
  /// Code generation may put a call of \p Site at \p FileName (compared
  /// without directories), \p Line and \p Column. The first site placed
  /// somewhere keeps the place.
  void place(llvm::StringRef FileName, unsigned Line, unsigned Column,
             const LockSiteInfo &Site);
  /// The site placed at \p FileName, \p Line and \p Column; null if none.
  const LockSiteInfo *find(llvm::StringRef FileName, unsigned Line,
                           unsigned Column) const;
  bool empty() const { return Places.empty(); }

private:
  using Place = std::tuple<std::string, unsigned, unsigned>;
  std::vector<std::unique_ptr<LockSiteInfo>> Sites;
  std::map<Place, const LockSiteInfo *> Places;
};

/// Fills \p Table when the translation unit \p InFile is complete, before
/// code generation.
std::unique_ptr<clang::ASTConsumer>
makeLockSiteConsumer(llvm::StringRef InFile, const Options &Opts,
                     std::shared_ptr<LockSiteTable> Table);

/// Whether \p Text may take a lock the engine marks: it names a std mutex
/// or guard, or a pthread mutex. A cheap test, before any parsing.
bool mentionsLocks(llvm::StringRef Text);

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_LOCKSITETABLE_H
