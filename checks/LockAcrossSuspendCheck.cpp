//===--- LockAcrossSuspendCheck.cpp - coro-lock-across-suspend ------------===//

#include "LockAcrossSuspendCheck.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "FindingsByLocation.h"
#include "LockKnowledge.h"
#include "MayAnalysis.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseSet.h"
#include <map>
#include <vector>

using namespace clang;
using namespace clang::ast_matchers;

namespace coroscope {

namespace {

/// One lock held at some point of a coroutine.
struct HeldLock {
  SourceLocation AcquiredAt;
  /// "lock 'guard' on 'mu_'" or "mutex 'mu_' (locked by hand)".
  std::string Subject;
  /// "'mu_' is locked here by 'guard'", for the note.
  std::string AcquiredNote;
};

/// The locks held at a program point, keyed by what identifies them: the
/// guard variable, or the mutex locked by hand.
using LockSet = std::map<std::string, HeldLock>;

struct Finding {
  SourceLocation Loc;
  bool IsYield = false;
  std::string Coroutine;
  std::vector<HeldLock> Locks;
  InstantiationNote Instantiation;
};

/// A mutex is identified by the variable or member it names; anything else
/// by its spelling.
std::string mutexKey(const Expr *Mutex, const ASTContext &Ctx) {
  Mutex = stripLockExpr(Mutex);
  if (const auto *Ref = dyn_cast<DeclRefExpr>(Mutex))
    return nodeKey("m", Ref->getDecl()->getCanonicalDecl());
  if (const auto *Member = dyn_cast<MemberExpr>(Mutex))
    return nodeKey("m", Member->getMemberDecl()->getCanonicalDecl());
  return "t" + shortSourceText(*Mutex, Ctx, 200);
}

std::string mutexName(const Expr *Mutex, const ASTContext &Ctx) {
  std::string Text = shortSourceText(*stripLockExpr(Mutex), Ctx);
  return Text.empty() ? "the mutex" : "'" + Text + "'";
}

/// The transfer function of the analysis, over one coroutine's CFG.
class LockFlow {
public:
  LockFlow(const ASTContext &Ctx, const NameList &LockTypes,
           const NameList &AsyncLockTypes, const NameList &AllowedAwaitables)
      : Ctx(Ctx), LockTypes(LockTypes), AsyncLockTypes(AsyncLockTypes),
        AllowedAwaitables(AllowedAwaitables) {}

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
      if (!Await->isImplicit() && !allowedAwaitable(*Await))
        Suspensions->push_back({Await, false, Locks});
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
    Guards[&Var] = {Mutexes, Var.getLocation()};
    if (Guard->Owns)
      Locks[nodeKey("g", &Var)] = {
          Var.getLocation(), "lock '" + Name + "' on " + Mutexes,
          Mutexes + (Guard->Mutexes.size() > 1 ? " are" : " is") +
              " locked here by '" + Name + "'"};
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
      Locks[Key] = {Call.getBeginLoc(),
                    "lock '" + Var->getName().str() + "' on " +
                        It->second.Mutexes,
                    It->second.Mutexes + " is locked here by '" +
                        Var->getName().str() + "'"};
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
                    "mutex " + Name +
                        (Pthread ? " (locked with "
                                   "pthread_mutex_lock)"
                                 : " (locked by hand)"),
                    Name + (Pthread ? " is locked here with pthread_mutex_lock"
                                    : " is locked here by hand")};
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
  };

  const ASTContext &Ctx;
  const NameList &LockTypes;
  const NameList &AsyncLockTypes;
  const NameList &AllowedAwaitables;
  llvm::DenseMap<const VarDecl *, GuardInfo> Guards;
};

const char *const DefaultAsyncLockTypes =
    "cppcoro::async_mutex;cppcoro::async_mutex_lock;"
    "cppcoro::async_mutex_scoped_lock_operation;folly::coro::Mutex;"
    "folly::coro::SharedMutex;folly::coro::SharedMutexFair;coro::mutex;"
    "coro::scoped_lock;coro::shared_mutex;coro::shared_scoped_lock";

} // namespace

struct LockAcrossSuspendCheck::Analysis {
  ASTContext *Ctx = nullptr;
  llvm::DenseSet<const FunctionDecl *> Seen;
  FindingsByLocation<Finding> Findings;
};

LockAcrossSuspendCheck::LockAcrossSuspendCheck(
    StringRef Name, clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      LockTypesOption(Options.get("LockTypes", "")),
      AsyncLockTypesOption(
          Options.get("AsyncLockTypes", DefaultAsyncLockTypes)),
      AllowedAwaitablesOption(
          Options.get("AllowedAwaitables", "std::suspend_never")),
      LockTypes(LockTypesOption), AsyncLockTypes(AsyncLockTypesOption),
      AllowedAwaitables(AllowedAwaitablesOption),
      State(std::make_unique<Analysis>()) {
  for (const auto &[Option, List] :
       {std::pair<StringRef, const NameList *>{"LockTypes", &LockTypes},
        {"AsyncLockTypes", &AsyncLockTypes},
        {"AllowedAwaitables", &AllowedAwaitables}})
    for (const std::string &Error : List->errors())
      configurationDiag("invalid regular expression in option '%0' of '%1': %2",
                        DiagnosticIDs::Error)
          << Option << Name << Error;
}

LockAcrossSuspendCheck::~LockAcrossSuspendCheck() = default;

void LockAcrossSuspendCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "LockTypes", LockTypesOption);
  Options.store(Opts, "AsyncLockTypes", AsyncLockTypesOption);
  Options.store(Opts, "AllowedAwaitables", AllowedAwaitablesOption);
}

void LockAcrossSuspendCheck::registerMatchers(MatchFinder *Finder) {
  addFunctionMatchers(*Finder, this, /*OnlyCoroutines=*/true);
}

void LockAcrossSuspendCheck::check(const MatchFinder::MatchResult &Result) {
  State->Ctx = Result.Context;
  for (const FunctionDecl *FD : matchedFunctions(Result))
    // The CFG needs concrete types: templates are analysed through their
    // instantiations.
    if (isCoroutine(*FD) && !FD->isDependentContext() &&
        State->Seen.insert(FD).second)
      analyzeCoroutine(*FD, *Result.Context);
}

void LockAcrossSuspendCheck::analyzeCoroutine(const FunctionDecl &Coroutine,
                                              ASTContext &Ctx) {
  const Stmt *Body = userBody(Coroutine);
  if (!Body)
    return;
  std::unique_ptr<CFG> Graph = buildFlowCFG(Coroutine, *Body, Ctx);
  if (!Graph)
    return;

  LockFlow Flow(Ctx, LockTypes, AsyncLockTypes, AllowedAwaitables);
  auto In = solveMayAnalysis<LockSet>(
      *Graph, [&](const CFGElement &Element, LockSet &Locks) {
        Flow.transfer(Element, Locks, nullptr);
      });
  std::vector<LockFlow::Suspension> Suspensions;
  replayMayAnalysis(*Graph, In, [&](const CFGElement &Element, LockSet &Locks) {
    Flow.transfer(Element, Locks, &Suspensions);
  });
  const std::string Name = describeCoroutine(Coroutine);
  for (LockFlow::Suspension &S : Suspensions) {
    Finding F;
    F.Loc = S.At->getBeginLoc();
    F.IsYield = S.IsYield;
    F.Coroutine = Name;
    for (auto &Entry : S.Held)
      F.Locks.push_back(std::move(Entry.second));
    const SourceManager &SM = Ctx.getSourceManager();
    llvm::sort(F.Locks, [&](const HeldLock &A, const HeldLock &B) {
      return SM.isBeforeInTranslationUnit(A.AcquiredAt, B.AcquiredAt);
    });
    State->Findings.add(Coroutine, std::move(F));
  }
}

void LockAcrossSuspendCheck::onEndOfTranslationUnit() {
  if (!State->Ctx) {
    State = std::make_unique<Analysis>();
    return;
  }
  const SourceManager &SM = State->Ctx->getSourceManager();
  for (const Finding *F : State->Findings.ordered(SM)) {
    std::string Subject;
    for (size_t I = 0; I < F->Locks.size(); ++I)
      Subject += (I == 0                     ? ""
                  : I + 1 == F->Locks.size() ? " and "
                                             : ", ") +
                 F->Locks[I].Subject;
    diag(F->Loc, "%0 %select{is|are}1 held across this "
                 "%select{co_await|co_yield}2 in %3; the coroutine may resume "
                 "on another thread and unlock there, and everything that "
                 "needs the lock waits until it does")
        << Subject << (F->Locks.size() > 1) << F->IsYield << F->Coroutine;
    for (const HeldLock &Lock : F->Locks)
      diag(Lock.AcquiredAt, "%0", DiagnosticIDs::Note) << Lock.AcquiredNote;
    if (!F->Instantiation.Name.empty())
      diag(F->Instantiation.Loc, "in the instantiation '%0', instantiated here",
           DiagnosticIDs::Note)
          << F->Instantiation.Name;
  }
  State = std::make_unique<Analysis>();
}

} // namespace coroscope
