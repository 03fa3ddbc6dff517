//===--- HeldLocks.h - the synchronous locks a coroutine holds ------------===//
//
// A forward may-analysis over a coroutine's CFG: which synchronous locks
// (std guards, mutexes locked by hand, pthread mutexes, the user's guard
// types) may be held at each point, and so at each co_await and co_yield.
// coro-lock-across-suspend reports those suspensions; coro-blocking-call
// uses them not to report one acquisition twice.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_HELDLOCKS_H
#define COROSCOPE_CHECKS_HELDLOCKS_H

#include "BlockingCatalogue.h"
#include "LockKnowledge.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include <map>
#include <string>
#include <vector>

namespace coroscope {

/// One lock held at some point of a coroutine.
struct HeldLock {
  clang::SourceLocation AcquiredAt;
  /// The construction or call that took it.
  const clang::Expr *Acquisition = nullptr;
  /// "lock 'guard' on 'mu_'" or "mutex 'mu_' (locked by hand)".
  std::string Subject;
  /// "'mu_' is locked here by 'guard'", for the note.
  std::string AcquiredNote;
  /// The guard variable and the mutexes: an awaited expression that names
  /// one of them is handed the lock.
  std::vector<const clang::ValueDecl *> Handles;
};

/// The locks held at a program point, keyed by what identifies them: the
/// guard variable, or the mutex locked by hand.
using LockSet = std::map<std::string, HeldLock>;

struct HeldLockOptions {
  const NameList &LockTypes;         // guard classes of the user's
  const NameList &AsyncLockTypes;    // asynchronous mutexes and their guards
  const NameList &AllowedAwaitables; // awaitables that never suspend
};

/// A suspension at which locks may be held.
struct SuspensionWithLocks {
  const clang::Expr *At;
  bool IsYield;
  std::vector<HeldLock> Locks; // in acquisition order
};

/// Every co_await and co_yield of \p Coroutine (a definition with concrete
/// types) at which a lock may be held.
std::vector<SuspensionWithLocks>
suspensionsHoldingLocks(const clang::FunctionDecl &Coroutine,
                        clang::ASTContext &Ctx, const HeldLockOptions &Options);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_HELDLOCKS_H
