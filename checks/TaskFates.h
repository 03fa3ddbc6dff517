//===--- TaskFates.h - where a created task goes, and when it runs --------===//
//
// A task that a call creates is awaited in the same full-expression, stored
// in a local variable or container and awaited, run or spawned later,
// returned, spawned at once, kept in a member, or handed to code we cannot
// see. For stored tasks, a forward may-analysis over the creating
// function's CFG finds the first point where a holder of the task is
// awaited, run or spawned after an object the task borrows has died.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_TASKFATES_H
#define COROSCOPE_CHECKS_TASKFATES_H

#include "BlockingCatalogue.h"
#include "BorrowedObjects.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ParentMap.h"
#include "llvm/ADT/DenseSet.h"
#include <string>
#include <vector>

namespace coroscope {

enum class FateKind {
  AwaitedInPlace, // inside the operand of a co_await of the same statement
  Stored,         // in a local variable or container (Holder)
  Returned,       // returned from a function that is not a coroutine
  Spawned,        // handed to a spawn function, not awaited in place
  Detached,       // an eager task whose value is discarded
  Kept,           // in a member or a global (Target)
  Unknown,        // anything else: not reported
};

struct TaskFate {
  FateKind Kind = FateKind::Unknown;
  const clang::VarDecl *Holder = nullptr;
  bool Pushed = false; // into a container
  /// Kept: "'pending_'"; Spawned: "'asio::co_spawn'".
  std::string Target;
};

struct FateOptions {
  /// Functions that start a task and let it run on its own.
  const NameList &SpawnFunctions;
  /// Functions and methods that run a task to completion, or start it.
  const NameList &RunnerFunctions;
};

/// The calls inside the operands of \p Caller's co_await expressions.
llvm::DenseSet<const clang::CallExpr *>
callsAwaitedInPlace(const clang::FunctionDecl &Caller);

/// The fate of the task \p Creation makes in \p Caller, whose body's
/// statements \p Parents maps to their parents.
TaskFate fateOf(const clang::CallExpr &Creation,
                const clang::FunctionDecl &Caller,
                const llvm::DenseSet<const clang::CallExpr *> &AwaitedInPlace,
                const clang::ParentMap &Parents, const FateOptions &Options);

/// A stored task's borrow to follow through the CFG.
struct StoredBorrow {
  const clang::CallExpr *Creation;
  const Borrow *Borrowed;
  const clang::VarDecl *Holder;
};

/// Where a stored task is still pending after its borrowed object died.
struct PendingAfterDeath {
  size_t Index; // into the StoredBorrow list
  /// Where the object died; invalid for a temporary (the creation's end).
  clang::SourceLocation DiedAt;
  clang::SourceLocation PendingAt;
  /// "awaited", "run by 'sync_wait'", "spawned by 'asio::co_spawn'",
  /// "returned from 'make'".
  std::string How;
  /// The holder at that point: the variable or container named there.
  const clang::VarDecl *Holder;
};

/// For each of \p Borrows, the first point on some path of \p Caller's CFG
/// where a holder of the task is awaited, run, spawned or returned after
/// the borrowed object died. Moves into other locals and containers are
/// followed; an assignment, the holder's end, or a hand-off to an unknown
/// function ends the task's path.
std::vector<PendingAfterDeath>
pendingAfterDeath(const clang::FunctionDecl &Caller,
                  llvm::ArrayRef<StoredBorrow> Borrows,
                  const llvm::DenseSet<const clang::CallExpr *> &AwaitedInPlace,
                  clang::ASTContext &Ctx, const FateOptions &Options);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_TASKFATES_H
