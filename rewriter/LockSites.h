//===--- LockSites.h - the lock operations both engines mark ----*- C++ -*-===//
//
// What a function does with locks, found once for both instrumentation
// engines: each guard that holds its mutex for its whole scope, each manual
// lock, try_lock and unlock, and each async scoped lock awaited into a
// guard. Only mutexes with a lock class (the name coro-lock-order-inversion
// gives them) count: a local or a parameter has none.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_LOCKSITES_H
#define COROSCOPE_REWRITER_LOCKSITES_H

#include "clang/AST/Decl.h"
#include "clang/AST/ExprCXX.h"
#include <cstdint>
#include <string>
#include <vector>

namespace coroscope::rewriter {

enum class LockOperation : std::uint8_t {
  Guard,   // a guard's construction takes it, its destruction releases it
  Lock,    // `m.lock()`, `pthread_mutex_lock(&m)`
  TryLock, // `m.try_lock()`, `pthread_mutex_trylock(&m)`: takes it if it
           // succeeds
  Unlock,  // `m.unlock()`, `pthread_mutex_unlock(&m)`
};

struct LockOperationSite {
  LockOperation Operation;
  std::uint8_t Kind; // COROSCOPE_IR_LOCK_KIND_*: mutex, shared, async
  std::string LockClass;
  /// The mutex as written (`&` stripped for pthread's).
  const clang::Expr *Mutex;
  /// The guard variable, for a Guard; its initializer is a construction or,
  /// for an async mutex, a co_await.
  const clang::VarDecl *Guard = nullptr;
  /// The call, for the others; for an async guard, the call awaited
  /// (`m.scoped_lock_async()`).
  const clang::CallExpr *Call = nullptr;
  /// An async guard's co_await.
  const clang::CoawaitExpr *Await = nullptr;
};

/// The lock operations of \p FD's body, without those of the lambdas in it
/// (functions of their own). In a template's pattern, only the operations
/// whose types are known.
std::vector<LockOperationSite>
findLockOperations(const clang::FunctionDecl &FD);

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_LOCKSITES_H
