//===--- LockSites.cpp - the lock operations both engines mark ------------===//

#include "LockSites.h"
#include "CoroutineKnowledge.h"
#include "LockKnowledge.h"

#include "coroscope/ir_abi.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace coroscope::rewriter {
namespace {

/// One function's body, without the lambdas and local classes in it.
class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool TraverseLambdaExpr(LambdaExpr *LE) {
    // A guard a lambda captures may be unlocked or moved there.
    for (const LambdaCapture &Capture : LE->captures())
      if (Capture.capturesVariable())
        Referenced.insert(Capture.getCapturedVar());
    return true;
  }
  bool TraverseCXXRecordDecl(CXXRecordDecl *) { return true; }
  bool VisitVarDecl(VarDecl *VD) {
    Vars.push_back(VD);
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    Referenced.insert(Ref->getDecl());
    return true;
  }
  bool VisitCallExpr(CallExpr *Call) {
    Calls.push_back(Call);
    return true;
  }
  std::vector<const VarDecl *> Vars;
  std::vector<const CallExpr *> Calls;
  llvm::DenseSet<const ValueDecl *> Referenced;
};

/// The initializer as awaited, through the copy or move of its result.
const CoawaitExpr *awaitedInit(const Expr *Init) {
  const Expr *E = stripLockExpr(Init);
  if (const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(E))
    if (Construct->getNumArgs() == 1 && Construct->getConstructor() &&
        Construct->getConstructor()->isCopyOrMoveConstructor())
      E = stripLockExpr(Construct->getArg(0));
  return dyn_cast_or_null<CoawaitExpr>(E);
}

std::string classOf(const Expr *Mutex) {
  return lockClassName(Mutex, [](const FunctionDecl &Function) {
    return plainQualifiedName(Function);
  });
}

/// A guard declared from its mutex that holds it for its whole scope.
std::optional<LockOperationSite> guardSite(const VarDecl &Guard,
                                           const BodyScan &Scan) {
  if (!Guard.getInit() || isa<ParmVarDecl>(Guard))
    return std::nullopt;
  if (const CoawaitExpr *Await = awaitedInit(Guard.getInit())) {
    // An async guard may be unlocked or moved before its end (libcoro's
    // scoped_lock::unlock): only one never named again counts.
    const Expr *Mutex = awaitedScopedLockMutex(*Await);
    if (!Mutex || Scan.Referenced.contains(&Guard))
      return std::nullopt;
    LockOperationSite Site{LockOperation::Guard, COROSCOPE_IR_LOCK_KIND_ASYNC,
                           classOf(Mutex), Mutex, &Guard};
    Site.Call = cast<CallExpr>(stripLockExpr(Await->getOperand()));
    Site.Await = Await;
    return Site;
  }
  const auto *Construct =
      dyn_cast<CXXConstructExpr>(Guard.getInit()->IgnoreImplicit());
  if (!Construct)
    return std::nullopt;
  std::optional<GuardConstruction> Made = classifyGuardConstruction(*Construct);
  if (!Made || !Made->Blocks || !Made->Owns || Made->Mutexes.size() != 1)
    return std::nullopt;
  // A unique_lock or shared_lock may be unlocked, moved or waited on (a
  // condition variable unlocks it) before its end: only one the body never
  // names again holds its lock for its whole scope.
  std::string Name =
      plainQualifiedName(*Construct->getConstructor()->getParent());
  if ((Name == "std::unique_lock" || Name == "std::shared_lock") &&
      Scan.Referenced.contains(&Guard))
    return std::nullopt;
  const Expr *Mutex = Made->Mutexes.front();
  return LockOperationSite{LockOperation::Guard,
                           Name == "std::shared_lock"
                               ? std::uint8_t(COROSCOPE_IR_LOCK_KIND_SHARED)
                               : std::uint8_t(COROSCOPE_IR_LOCK_KIND_MUTEX),
                           classOf(Mutex), Mutex, &Guard};
}

std::optional<LockOperationSite> callSite(const CallExpr &Call) {
  std::optional<ManualLockCall> Manual =
      classifyManualLockCall(Call, /*WithTries=*/true);
  if (!Manual)
    return std::nullopt;
  std::uint8_t Kind = COROSCOPE_IR_LOCK_KIND_MUTEX;
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
    if (const CXXMethodDecl *Method = Member->getMethodDecl())
      if (Method->getName().ends_with("_shared"))
        Kind = COROSCOPE_IR_LOCK_KIND_SHARED;
  LockOperation Operation = Manual->Tries      ? LockOperation::TryLock
                            : Manual->Acquires ? LockOperation::Lock
                                               : LockOperation::Unlock;
  LockOperationSite Site{Operation, Kind, classOf(Manual->Mutex),
                         Manual->Mutex};
  Site.Call = &Call;
  return Site;
}

} // namespace

std::vector<LockOperationSite> findLockOperations(const FunctionDecl &FD) {
  std::vector<LockOperationSite> Sites;
  const Stmt *Body = FD.getBody();
  if (!Body)
    return Sites;
  BodyScan Scan;
  Scan.TraverseStmt(const_cast<Stmt *>(Body));
  auto Add = [&](std::optional<LockOperationSite> Site) {
    // A local or a parameter has no class of its own.
    if (Site && !Site->LockClass.empty())
      Sites.push_back(std::move(*Site));
  };
  for (const VarDecl *Var : Scan.Vars)
    Add(guardSite(*Var, Scan));
  for (const CallExpr *Call : Scan.Calls)
    Add(callSite(*Call));
  return Sites;
}

} // namespace coroscope::rewriter
