//===--- LockKnowledge.h - What coroscope knows about locks ---------------===//
//
// The one place that decides what a synchronous mutex is, what a lock guard
// is, whether constructing one locks, which calls lock or unlock a mutex by
// hand, what an async mutex is and how a lock class is named. The lock
// checks use these, and both instrumentation engines (rewriter/LockSites).
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_LOCKKNOWLEDGE_H
#define COROSCOPE_CHECKS_LOCKKNOWLEDGE_H

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <string>

namespace coroscope {

/// \p E without implicit nodes, parentheses and functional casts: a mutex
/// or guard expression as written.
const clang::Expr *stripLockExpr(const clang::Expr *E);

/// The variable \p E names, if it names one.
const clang::VarDecl *referencedVar(const clang::Expr *E);

/// The lock class of a mutex expression, as coro-lock-order-inversion and
/// the run-time tracker name it: "ns::global", "Class::member_" (a data
/// member or a static one), or "function::static" for a function's static
/// local, with the function named by \p FunctionName. \p Mutex is stripped
/// of implicit nodes, `&` and `*` first. Empty for a local or a parameter,
/// which have no class of their own.
std::string lockClassName(
    const clang::Expr *Mutex,
    llvm::function_ref<std::string(const clang::FunctionDecl &)> FunctionName);

/// std::mutex, timed_mutex, recursive_mutex, recursive_timed_mutex,
/// shared_mutex, shared_timed_mutex.
bool isStdMutex(const clang::CXXRecordDecl &RD);

/// std::lock_guard, scoped_lock, unique_lock, shared_lock.
bool isStdLockGuard(const clang::CXXRecordDecl &RD);

/// What constructing a lock guard does.
struct GuardConstruction {
  /// The mutexes it is made from (several for scoped_lock).
  llvm::SmallVector<const clang::Expr *, 2> Mutexes;
  /// It waits for the mutexes: not when adopting, deferring or trying, and
  /// not for a timed unique_lock/shared_lock (that is try_lock_for/until).
  bool Blocks = false;
  /// It owns the lock once constructed: when it blocked, or adopted a lock
  /// already held. Deferred, tried, timed and moved-from locks do not count.
  bool Owns = false;
};

/// Classifies constructing a std lock guard, or any class when
/// \p AnyGuardClass is set (a user's guard type, constructed from its
/// mutex). Null for other constructions, moves and copies.
std::optional<GuardConstruction>
classifyGuardConstruction(const clang::CXXConstructExpr &Construct,
                          bool AnyGuardClass = false);

/// A call that locks or unlocks a mutex by hand: `lock`, `lock_shared`,
/// `unlock`, `unlock_shared` on a std mutex; `pthread_mutex_lock` and
/// `pthread_mutex_unlock`. With \p WithTries, also `try_lock` and
/// `try_lock_shared` on a std mutex and `pthread_mutex_trylock`, which
/// acquire only when they succeed; without it they never count.
struct ManualLockCall {
  const clang::Expr *Mutex; // the mutex object (`&` stripped for pthread)
  bool Acquires;
  bool Tries = false; // it may fail: pthread's returns 0 on success
};
std::optional<ManualLockCall>
classifyManualLockCall(const clang::CallExpr &Call, bool WithTries = false);

/// Asynchronous mutexes and their guards, as plain qualified names separated
/// by `;`: cppcoro's, folly's and libcoro's. Awaiting their lock holds no
/// thread. The checks' AsyncLockTypes option defaults to this list.
extern const char *const DefaultAsyncLockTypes;

/// True when \p RD is one of DefaultAsyncLockTypes.
bool isDefaultAsyncLockType(const clang::CXXRecordDecl &RD);

/// The mutex of an async scoped lock's await, `co_await m.scoped_lock_async()`
/// (cppcoro), `co_await m.co_scoped_lock()` (folly), `co_await m.lock()`
/// (libcoro): a member call on an async mutex, awaited, whose result is the
/// guard that holds the lock. Null for other awaits, and for an await whose
/// result is void (`lock_async()`, released by a later `unlock()`).
const clang::Expr *awaitedScopedLockMutex(const clang::CoawaitExpr &Await);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_LOCKKNOWLEDGE_H
