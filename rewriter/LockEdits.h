//===--- LockEdits.h - the source engine's lock hooks -----------*- C++ -*-===//
//
// The text the source engine inserts around a function's lock operations
// (LockSites.h), calling the runtime's lock hooks (docs/runtime/locks.md):
//   a guard       COROSCOPE_I_LOCK_WAIT(...) std::lock_guard g(m);
//                 COROSCOPE_I_LOCK_HOLD(...)
//   m.lock()      ((void)::coroscope::lock_call{&m, site}, m.lock())
//   m.try_lock()  ::coroscope::lock_tried(&m, site, m.try_lock())
//   m.unlock()    (::coroscope::lock_released(&m, site), m.unlock())
// An operation is left alone when its text is not all in the file (a
// macro), when its mutex expression has side effects (it is written
// twice), when a guard is not a statement of a block of its own, and when a
// call shares its full expression with a suspension.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_LOCKEDITS_H
#define COROSCOPE_REWRITER_LOCKEDITS_H

#include "clang/AST/ASTContext.h"
#include "llvm/ADT/StringRef.h"
#include <string>
#include <vector>

namespace coroscope::rewriter {

struct LockEdit {
  unsigned OpenAt;
  std::string Open;
  unsigned CloseAt;
  std::string Close;
};

/// The edits of \p FD's lock operations written in \p File, whose sites
/// name it \p SiteFile.
std::vector<LockEdit> lockEdits(const clang::FunctionDecl &FD,
                                clang::ASTContext &Ctx, clang::FileID File,
                                llvm::StringRef SiteFile);

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_LOCKEDITS_H
