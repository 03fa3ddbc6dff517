//===--- HeldLocks.cpp - the synchronous locks a coroutine holds ----------===//

#include "HeldLocks.h"
#include "CoroutineKnowledge.h"
#include "LockKnowledge.h"
#include "MayAnalysis.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace coroscope {
namespace {

const ValueDecl *mutexDecl(const Expr *Mutex) {
  Mutex = stripLockExpr(Mutex);
  if (const auto *Ref = dyn_cast<DeclRefExpr>(Mutex))
    return Ref->getDecl();
  if (const auto *Member = dyn_cast<MemberExpr>(Mutex))
    return Member->getMemberDecl();
  return nullptr;
}

/// A mutex is identified by the variable or member it names; anything else
/// by its spelling.
std::string mutexKey(const Expr *Mutex, const ASTContext &Ctx) {
  if (const ValueDecl *D = mutexDecl(Mutex))
    return nodeKey("m", D->getCanonicalDecl());
  return "t" + shortSourceText(*stripLockExpr(Mutex), Ctx, 200);
}

/// True when \p FD's code lets a lock go: unlock(), release(), or moving or
/// swapping it away.
bool releasesALock(const FunctionDecl &FD) {
  struct Finder : RecursiveASTVisitor<Finder> {
    bool Found = false;
    bool VisitCallExpr(CallExpr *Call) {
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (!Callee || !Callee->getIdentifier())
        return true;
      const StringRef Name = Callee->getName();
      if (isa<CXXMethodDecl>(Callee))
        Found = Name == "unlock" || Name == "unlock_shared" ||
                Name == "release" || Name == "swap";
      else if (Callee->isInStdNamespace())
        Found = Name == "move" || Name == "swap" || Name == "exchange";
      else
        Found = Name == "pthread_mutex_unlock";
      return !Found;
    }
  } F;
  if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(&FD))
    for (const CXXCtorInitializer *Init : Ctor->inits())
      F.TraverseStmt(Init->getInit());
  F.TraverseStmt(FD.getBody());
  return F.Found;
}

/// Whether an awaited expression that is handed a lock keeps it held while
/// the coroutine is suspended. An async lock's or an async wait's awaiter
/// releases it before suspending (concurrencpp's async_lock_awaiter); only
/// visible code that never lets a lock go keeps it held.
bool awaitKeepsLock(const CoawaitExpr &Await,
                    llvm::ArrayRef<const ValueDecl *> Handles) {
  llvm::SmallVector<const FunctionDecl *, 4> Code;
  struct Callees : RecursiveASTVisitor<Callees> {
    llvm::ArrayRef<const ValueDecl *> Handles;
    llvm::SmallVectorImpl<const FunctionDecl *> *Code;
    bool handed(llvm::ArrayRef<const Expr *> Args) {
      for (const Expr *Arg : Args)
        if (referencesAny(Arg, Handles))
          return true;
      return false;
    }
    bool VisitCallExpr(CallExpr *Call) {
      if (const FunctionDecl *Callee = Call->getDirectCallee())
        if (handed({Call->getArgs(), Call->getNumArgs()}))
          Code->push_back(Callee);
      return true;
    }
    bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
      if (handed({Construct->getArgs(), Construct->getNumArgs()}))
        Code->push_back(Construct->getConstructor());
      return true;
    }
  } Finder;
  Finder.Handles = Handles;
  Finder.Code = &Code;
  Finder.TraverseStmt(Await.getOperand());
  if (const Expr *Suspend = Await.getSuspendExpr())
    if (const auto *Call =
            dyn_cast<CXXMemberCallExpr>(Suspend->IgnoreImplicit()))
      if (const CXXMethodDecl *Method = Call->getMethodDecl())
        Code.push_back(Method);
  bool Visible = false;
  for (const FunctionDecl *FD : Code) {
    const FunctionDecl *Definition = FD->getDefinition();
    if (!Definition || !Definition->hasBody())
      continue;
    if (releasesALock(*Definition))
      return false;
    Visible = true;
  }
  return Visible;
}

std::string mutexName(const Expr *Mutex, const ASTContext &Ctx) {
  std::string Text = shortSourceText(*stripLockExpr(Mutex), Ctx);
  return Text.empty() ? "the mutex" : "'" + Text + "'";
}

/// The statements of unevaluated operands (`noexcept(mu.lock())`,
/// `sizeof`, an unevaluated `typeid`): the CFG lists them, yet they run no
/// code.
llvm::DenseSet<const Stmt *> unevaluatedStatements(const Stmt &Body) {
  struct Collector : RecursiveASTVisitor<Collector> {
    llvm::DenseSet<const Stmt *> Found;
    void addAll(const Stmt *S) {
      if (!S || !Found.insert(S).second)
        return;
      for (const Stmt *Child : S->children())
        addAll(Child);
    }
    bool VisitCXXNoexceptExpr(CXXNoexceptExpr *E) {
      addAll(E->getOperand());
      return true;
    }
    bool VisitUnaryExprOrTypeTraitExpr(UnaryExprOrTypeTraitExpr *E) {
      if (!E->isArgumentType())
        addAll(E->getArgumentExpr());
      return true;
    }
    bool VisitCXXTypeidExpr(CXXTypeidExpr *E) {
      if (!E->isTypeOperand() && !E->isPotentiallyEvaluated())
        addAll(E->getExprOperand());
      return true;
    }
  } C;
  C.TraverseStmt(const_cast<Stmt *>(&Body));
  return std::move(C.Found);
}

/// The transfer function of the analysis, over one coroutine's CFG.
class LockFlow {
public:
  LockFlow(const ASTContext &Ctx, const Stmt &Body, const NameList &LockTypes,
           const NameList &AsyncLockTypes, const NameList &AllowedAwaitables)
      : Ctx(Ctx), LockTypes(LockTypes), AsyncLockTypes(AsyncLockTypes),
        AllowedAwaitables(AllowedAwaitables),
        Unevaluated(unevaluatedStatements(Body)) {}

  struct Suspension {
    const Expr *At;
    bool IsYield;
    LockSet Held;
  };

  /// Applies \p Element to \p Locks; suspensions with locks held are added
  /// to \p Suspensions when it is not null.
  void transfer(const CFGElement &Element, LockSet &Locks,
                std::vector<Suspension> *Suspensions) {
    if (auto Dtor = Element.getAs<CFGAutomaticObjDtor>()) {
      Locks.erase(nodeKey("g", Dtor->getVarDecl()));
      return;
    }
    auto S = Element.getAs<CFGStmt>();
    if (!S)
      return;
    const Stmt *Statement = S->getStmt();
    if (Unevaluated.count(Statement))
      return;
    if (const auto *Decl = dyn_cast<DeclStmt>(Statement)) {
      for (const clang::Decl *D : Decl->decls())
        if (const auto *Var = dyn_cast<VarDecl>(D))
          declared(*Var, Locks);
      return;
    }
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Statement))
      if (guardCall(*Member, Locks))
        return;
    if (const auto *Call = dyn_cast<CallExpr>(Statement)) {
      call(*Call, Locks);
      return;
    }
    if (!Suspensions || Locks.empty())
      return;
    if (const auto *Await = dyn_cast<CoawaitExpr>(Statement)) {
      if (Await->isImplicit() || allowedAwaitable(*Await))
        return;
      // A lock handed to the awaited expression is the awaiter's to release
      // (an async lock's or an async wait's API); it stays held afterwards.
      LockSet Held;
      for (const auto &[Key, Lock] : Locks)
        if (!referencesAny(Await->getOperand(), Lock.Handles) ||
            awaitKeepsLock(*Await, Lock.Handles))
          Held.emplace(Key, Lock);
      if (!Held.empty())
        Suspensions->push_back({Await, false, std::move(Held)});
    } else if (const auto *Yield = dyn_cast<CoyieldExpr>(Statement)) {
      Suspensions->push_back({Yield, true, Locks});
    }
  }

private:
  void declared(const VarDecl &Var, LockSet &Locks) {
    const auto *Construct =
        dyn_cast_or_null<CXXConstructExpr>(stripLockExpr(Var.getInit()));
    if (!Construct || !Construct->getConstructor())
      return;
    const CXXRecordDecl *Class = Construct->getConstructor()->getParent();
    llvm::SmallVector<std::string, 2> ClassNames{plainQualifiedName(*Class)};
    const bool UserGuard = LockTypes.findMatch(ClassNames).has_value();
    if (AsyncLockTypes.findMatch(ClassNames))
      return;
    std::optional<GuardConstruction> Guard =
        classifyGuardConstruction(*Construct, UserGuard);
    if (!Guard)
      return;
    // A guard over an asynchronous mutex (cppcoro's lock_async() then
    // std::lock_guard with adopt_lock) holds no thread.
    for (const Expr *Mutex : Guard->Mutexes)
      if (const CXXRecordDecl *MutexClass = objectClass(*Mutex))
        if (AsyncLockTypes.findMatch({plainQualifiedName(*MutexClass)}))
          return;
    std::string Mutexes;
    for (const Expr *Mutex : Guard->Mutexes)
      Mutexes += (Mutexes.empty() ? "" : ", ") + mutexName(Mutex, Ctx);
    const std::string Name = Var.getName().str();
    std::vector<const ValueDecl *> Handles{&Var};
    for (const Expr *Mutex : Guard->Mutexes)
      if (const ValueDecl *D = mutexDecl(Mutex))
        Handles.push_back(D);
    Guards[&Var] = {Mutexes, Var.getLocation(), Handles};
    if (Guard->Owns)
      Locks[nodeKey("g", &Var)] = {
          Var.getLocation(), Construct, "lock '" + Name + "' on " + Mutexes,
          Mutexes + (Guard->Mutexes.size() > 1 ? " are" : " is") +
              " locked here by '" + Name + "'",
          std::move(Handles)};
  }

  /// unique_lock-style calls on a guard variable.
  bool guardCall(const CXXMemberCallExpr &Call, LockSet &Locks) {
    const VarDecl *Var = referencedVar(Call.getImplicitObjectArgument());
    auto It = Var ? Guards.find(Var) : Guards.end();
    const CXXMethodDecl *Method = Call.getMethodDecl();
    if (It == Guards.end() || !Method || !Method->getIdentifier())
      return false;
    const StringRef Name = Method->getName();
    const std::string Key = nodeKey("g", Var);
    if (Name == "unlock" || Name == "release")
      Locks.erase(Key);
    else if (Name == "lock")
      Locks[Key] = {Call.getBeginLoc(), &Call,
                    "lock '" + Var->getName().str() + "' on " +
                        It->second.Mutexes,
                    It->second.Mutexes + " is locked here by '" +
                        Var->getName().str() + "'",
                    It->second.Handles};
    return true;
  }

  void call(const CallExpr &Call, LockSet &Locks) {
    if (std::optional<ManualLockCall> Manual = classifyManualLockCall(Call)) {
      const std::string Key = mutexKey(Manual->Mutex, Ctx);
      if (!Manual->Acquires) {
        Locks.erase(Key);
        return;
      }
      const std::string Name = mutexName(Manual->Mutex, Ctx);
      const bool Pthread = !isa<CXXMemberCallExpr>(Call);
      Locks[Key] = {Call.getBeginLoc(),
                    &Call,
                    "mutex " + Name +
                        (Pthread ? " (locked with "
                                   "pthread_mutex_lock)"
                                 : " (locked by hand)"),
                    Name + (Pthread ? " is locked here with pthread_mutex_lock"
                                    : " is locked here by hand"),
                    {}};
      if (const ValueDecl *D = mutexDecl(Manual->Mutex))
        Locks[Key].Handles.push_back(D);
      return;
    }
    // Moving a guard away: the new owner is someone else's business.
    const FunctionDecl *Callee = Call.getDirectCallee();
    if (Callee && Call.getNumArgs() == 1 && Callee->getIdentifier() &&
        Callee->getName() == "move" && Callee->isInStdNamespace())
      if (const VarDecl *Var = referencedVar(Call.getArg(0)))
        Locks.erase(nodeKey("g", Var));
  }

  bool allowedAwaitable(const CoawaitExpr &Await) const {
    const Expr *Operand = Await.getOperand();
    const CXXRecordDecl *Class =
        Operand ? Operand->getType()->getAsCXXRecordDecl() : nullptr;
    return Class && AllowedAwaitables.findMatch({plainQualifiedName(*Class)});
  }

  struct GuardInfo {
    std::string Mutexes;
    SourceLocation Declared;
    std::vector<const ValueDecl *> Handles;
  };

  const ASTContext &Ctx;
  const NameList &LockTypes;
  const NameList &AsyncLockTypes;
  const NameList &AllowedAwaitables;
  llvm::DenseSet<const Stmt *> Unevaluated;
  llvm::DenseMap<const VarDecl *, GuardInfo> Guards;
};

} // namespace

std::vector<SuspensionWithLocks>
suspensionsHoldingLocks(const FunctionDecl &Coroutine, ASTContext &Ctx,
                        const HeldLockOptions &Options) {
  std::vector<SuspensionWithLocks> Result;
  const Stmt *Body = userBody(Coroutine);
  if (!Body)
    return Result;
  std::unique_ptr<CFG> Graph = buildFlowCFG(Coroutine, *Body, Ctx);
  if (!Graph)
    return Result;
  LockFlow Flow(Ctx, *Body, Options.LockTypes, Options.AsyncLockTypes,
                Options.AllowedAwaitables);
  auto In = solveMayAnalysis<LockSet>(
      *Graph, [&](const CFGElement &Element, LockSet &Locks) {
        Flow.transfer(Element, Locks, nullptr);
      });
  std::vector<LockFlow::Suspension> Suspensions;
  replayMayAnalysis(*Graph, In, [&](const CFGElement &Element, LockSet &Locks) {
    Flow.transfer(Element, Locks, &Suspensions);
  });
  const SourceManager &SM = Ctx.getSourceManager();
  for (LockFlow::Suspension &S : Suspensions) {
    SuspensionWithLocks Out{S.At, S.IsYield, {}};
    for (auto &Entry : S.Held)
      Out.Locks.push_back(std::move(Entry.second));
    llvm::sort(Out.Locks, [&](const HeldLock &A, const HeldLock &B) {
      return SM.isBeforeInTranslationUnit(A.AcquiredAt, B.AcquiredAt);
    });
    Result.push_back(std::move(Out));
  }
  return Result;
}

} // namespace coroscope
