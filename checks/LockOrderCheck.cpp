//===--- LockOrderCheck.cpp - coro-lock-order-inversion -------------------===//

#include "LockOrderCheck.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "LockGraph.h"
#include "LockKnowledge.h"
#include "MayAnalysis.h"
#include "TranslationUnitFacts.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include <map>
#include <set>
#include <vector>

using namespace clang;
using namespace clang::ast_matchers;
using coroscope::lockgraph::Edge;
using coroscope::lockgraph::Site;
using coroscope::lockgraph::Step;

namespace coroscope {

namespace {

/// How a lock's object relates to the function that locks it, to tell a
/// lock taken twice on one object (a self-deadlock) from two objects of
/// the same lock class.
enum class ObjectKind {
  Static,     // a global or static: one object per lock class
  ThisMember, // a member of *this
  Other,
};

/// A mutex expression, resolved.
struct LockRef {
  std::string Class;  // the lock class; empty when unknown
  std::string Object; // identity within the function; empty when unknown
  ObjectKind Kind = ObjectKind::Other;
  bool Recursive = false;
};

struct HeldLock {
  llvm::SmallVector<LockRef, 2> Locks;
  SourceLocation At;
  Site AtSite;
};

/// Held locks by what releases them: "g" + guard variable, or "m" + the
/// object locked by hand.
using HeldSet = std::map<std::string, HeldLock>;

/// A lock class a function acquires, directly or through calls.
struct Acquisition {
  ObjectKind Kind = ObjectKind::Other;
  bool Recursive = false;
  /// The first step is in the summarised function: the acquisition, or the
  /// call that leads to it.
  std::vector<Step> Chain;
};

struct Summary {
  std::map<std::string, Acquisition> Acquires;
};

struct SelfDeadlock {
  SourceLocation At;
  SourceLocation HeldAt;
  std::string Class;
  std::string Function;
  std::vector<Step> Via;
};

/// A lock expression as written, also through copies and moves (a scoped
/// async lock's guard is moved out of await_resume).
const Expr *strip(const Expr *E) {
  for (const Expr *Previous = nullptr; E && E != Previous;) {
    Previous = E;
    E = stripLockExpr(E);
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(E);
        Construct && Construct->getNumArgs() == 1 &&
        Construct->getConstructor()->isCopyOrMoveConstructor())
      E = Construct->getArg(0);
  }
  return E;
}

bool isRecursiveMutex(const Expr &Mutex) {
  const CXXRecordDecl *Class = objectClass(Mutex);
  return Class && Class->getIdentifier() &&
         Class->getName().contains("recursive");
}

bool isThisObject(const Expr *E) { return isa<CXXThisExpr>(strip(E)); }

const char *const DefaultAsyncLockFunctions =
    "cppcoro::async_mutex::lock_async;cppcoro::async_mutex::scoped_lock_async;"
    "folly::coro::Mutex::co_lock;folly::coro::Mutex::co_scoped_lock;"
    "folly::coro::SharedMutexFair::co_lock;"
    "folly::coro::SharedMutexFair::co_scoped_lock;"
    "folly::coro::SharedMutexFair::co_lock_shared;"
    "folly::coro::SharedMutexFair::co_scoped_lock_shared;"
    "coro::mutex::lock;coro::shared_mutex::lock;"
    "coro::shared_mutex::lock_shared";

} // namespace

struct LockOrderCheck::Analysis {
  ASTContext *Ctx = nullptr;
  const LibraryBoundary *Boundary = nullptr;
  const NameList *AsyncLockFunctions = nullptr;
  std::vector<const FunctionDecl *> Functions;
  llvm::DenseSet<const FunctionDecl *> Seen;

  // Arguments bound to reference and pointer parameters, over the TU.
  bool CallSitesCollected = false;
  llvm::DenseMap<const ParmVarDecl *, llvm::SmallVector<const Expr *, 2>>
      ParamArguments;
  llvm::DenseMap<const ParmVarDecl *, std::optional<LockRef>> ParamLocks;

  llvm::DenseMap<const FunctionDecl *, Summary> Summaries;
  llvm::DenseSet<const FunctionDecl *> InProgress;

  lockgraph::Graph Graph;
  std::set<std::string> Locks;
  std::map<std::tuple<std::string, unsigned, unsigned>, SourceLocation>
      SiteLocations;
  std::map<SourceLocation, SelfDeadlock> SelfDeadlocks;

  std::optional<FactsPlaces> Places;
  /// Function summaries for the facts file, when it is written.
  bool WantFacts = false;
  std::map<const FunctionDecl *, lockgraph::FunctionFact> FunctionFacts;

  Site siteOf(SourceLocation Loc) {
    Site S = Places->siteOf(Loc);
    SiteLocations.try_emplace(S.key(),
                              Ctx->getSourceManager().getExpansionLoc(Loc));
    return S;
  }

  SourceLocation locationOf(const Site &S) const {
    auto It = SiteLocations.find(S.key());
    return It == SiteLocations.end() ? SourceLocation() : It->second;
  }

  std::string functionName(const FunctionDecl &FD) {
    const auto *Method = dyn_cast<CXXMethodDecl>(&FD);
    if (!Method || !Method->getParent()->isLambda())
      return plainQualifiedName(FD);
    // Clang's lambda names carry absolute paths; facts must not.
    Site At = siteOf(Method->getParent()->getLocation());
    std::string Name = "(lambda at " + At.File + ":" + std::to_string(At.Line) +
                       ":" + std::to_string(At.Column) + ")";
    if (const FunctionDecl *Enclosing = enclosingNamedFunction(*Method))
      return plainQualifiedName(*Enclosing) + "::" + Name;
    return Name;
  }

  void collectCallSites();
  std::optional<LockRef> parameterLock(const ParmVarDecl &Param);
  LockRef lockOf(const Expr *Mutex);
  const Summary &summaryOf(const FunctionDecl &FD);
  void analyze(const FunctionDecl &FD, Summary &Result);
};

namespace {

/// Records the arguments of every call to a function with reference or
/// pointer parameters.
class CallSiteCollector : public RecursiveASTVisitor<CallSiteCollector> {
public:
  explicit CallSiteCollector(LockOrderCheck::Analysis &State) : State(State) {}
  bool shouldVisitLambdaBody() const { return false; }

  bool VisitCallExpr(CallExpr *Call) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return true;
    unsigned Shift = 0;
    if (isa<CXXOperatorCallExpr>(Call) && isa<CXXMethodDecl>(Callee) &&
        !cast<CXXMethodDecl>(Callee)->isStatic())
      Shift = 1; // the object is argument 0
    record(*Callee, llvm::ArrayRef(Call->getArgs(), Call->getNumArgs())
                        .drop_front(std::min(Shift, Call->getNumArgs())));
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    if (const CXXConstructorDecl *Ctor = Construct->getConstructor())
      record(*Ctor,
             llvm::ArrayRef(Construct->getArgs(), Construct->getNumArgs()));
    return true;
  }

private:
  void record(const FunctionDecl &Callee, llvm::ArrayRef<const Expr *> Args) {
    for (unsigned I = 0; I < Args.size() && I < Callee.getNumParams(); ++I) {
      const ParmVarDecl *Param = Callee.getParamDecl(I);
      QualType Type = Param->getType();
      if (Type->isReferenceType() || Type->isPointerType())
        State.ParamArguments[Param].push_back(Args[I]);
    }
  }

  LockOrderCheck::Analysis &State;
};

} // namespace

void LockOrderCheck::Analysis::collectCallSites() {
  CallSitesCollected = true;
  CallSiteCollector Collector(*this);
  for (const FunctionDecl *FD : Functions)
    if (const Stmt *Body = FD->getBody())
      Collector.TraverseStmt(const_cast<Stmt *>(Body));
}

std::optional<LockRef>
LockOrderCheck::Analysis::parameterLock(const ParmVarDecl &Param) {
  if (!CallSitesCollected)
    collectCallSites();
  auto [It, Inserted] = ParamLocks.try_emplace(&Param, std::nullopt);
  if (!Inserted)
    return It->second; // known, or being resolved (a recursive call)
  auto Arguments = ParamArguments.find(&Param);
  if (Arguments == ParamArguments.end())
    return std::nullopt;
  std::optional<LockRef> Agreed;
  for (const Expr *Argument : Arguments->second) {
    LockRef Ref = lockOf(Argument);
    if (Ref.Class.empty() || (Agreed && Agreed->Class != Ref.Class))
      return std::nullopt;
    if (!Agreed)
      Agreed = Ref;
    else if (Agreed->Object != Ref.Object)
      Agreed->Kind = ObjectKind::Other;
  }
  if (Agreed) {
    // One global object at every call site stays that object.
    if (Agreed->Kind != ObjectKind::Static)
      Agreed->Kind = ObjectKind::Other;
    Agreed->Object = nodeKey("p", &Param);
  }
  ParamLocks[&Param] = Agreed;
  return Agreed;
}

LockRef LockOrderCheck::Analysis::lockOf(const Expr *Mutex) {
  LockRef Ref;
  const Expr *E = strip(Mutex);
  while (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
    if (Unary->getOpcode() != UO_AddrOf && Unary->getOpcode() != UO_Deref)
      break;
    E = strip(Unary->getSubExpr());
  }
  Ref.Recursive = isRecursiveMutex(*Mutex);
  auto ClassOf = [&](const Expr *Named) {
    return lockClassName(Named, [&](const FunctionDecl &Function) {
      return functionName(Function);
    });
  };
  if (const auto *DeclRef = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(DeclRef->getDecl());
    if (!Var)
      return Ref;
    if (const auto *Param = dyn_cast<ParmVarDecl>(Var)) {
      if (std::optional<LockRef> Resolved = parameterLock(*Param)) {
        Resolved->Recursive |= Ref.Recursive;
        return *Resolved;
      }
      Ref.Object = nodeKey("v", Var->getCanonicalDecl());
      return Ref;
    }
    Ref.Object = nodeKey("v", Var->getCanonicalDecl());
    if (!Var->hasGlobalStorage())
      return Ref;
    Ref.Kind = ObjectKind::Static;
    Ref.Class = ClassOf(DeclRef);
    return Ref;
  }
  if (const auto *Member = dyn_cast<MemberExpr>(E)) {
    const ValueDecl *Decl = Member->getMemberDecl();
    if (const auto *Static = dyn_cast<VarDecl>(Decl)) {
      Ref.Class = ClassOf(Member);
      Ref.Kind = ObjectKind::Static;
      Ref.Object = nodeKey("v", Static->getCanonicalDecl());
      return Ref;
    }
    const auto *Field = dyn_cast<FieldDecl>(Decl);
    if (!Field)
      return Ref;
    Ref.Class = ClassOf(Member);
    const Expr *Base = Member->getBase();
    if (isThisObject(Base)) {
      Ref.Kind = ObjectKind::ThisMember;
      Ref.Object = "this." + Field->getName().str();
    } else if (LockRef BaseRef = lockOf(Base); !BaseRef.Object.empty()) {
      Ref.Object = BaseRef.Object + "." + Field->getName().str();
    }
  }
  return Ref;
}

const Summary &LockOrderCheck::Analysis::summaryOf(const FunctionDecl &FD) {
  const FunctionDecl *Key = FD.getCanonicalDecl();
  if (auto It = Summaries.find(Key); It != Summaries.end())
    return It->second;
  static const Summary Empty;
  // Recursion: the function's own acquisitions are already on the path.
  if (!InProgress.insert(Key).second)
    return Empty;
  Summary Result;
  if (const FunctionDecl *Definition = FD.getDefinition())
    analyze(*Definition, Result);
  InProgress.erase(Key);
  return Summaries[Key] = std::move(Result);
}

namespace {

/// The transfer function of the lock-order analysis over one function.
class OrderFlow {
public:
  OrderFlow(LockOrderCheck::Analysis &State, const FunctionDecl &Function,
            Summary *Record)
      : State(State), Record(Record), Name(State.functionName(Function)) {}

  /// From now on, edges, self-deadlocks and the summary are recorded, and
  /// the function's facts when \p Fact is set.
  void record(Summary *Into, lockgraph::FunctionFact *Fact) {
    Record = Into;
    this->Fact = Fact;
  }

  void transfer(const CFGElement &Element, HeldSet &Held) {
    if (auto Dtor = Element.getAs<CFGAutomaticObjDtor>()) {
      Held.erase(nodeKey("g", Dtor->getVarDecl()));
      return;
    }
    auto S = Element.getAs<CFGStmt>();
    if (!S)
      return;
    const Stmt *Statement = S->getStmt();
    if (const auto *Decl = dyn_cast<DeclStmt>(Statement)) {
      for (const clang::Decl *D : Decl->decls())
        if (const auto *Var = dyn_cast<VarDecl>(D))
          declared(*Var, Held);
    } else if (const auto *Await = dyn_cast<CoawaitExpr>(Statement)) {
      awaited(*Await, Held);
    } else if (const auto *Call = dyn_cast<CallExpr>(Statement)) {
      call(*Call, Held);
    } else if (const auto *Construct = dyn_cast<CXXConstructExpr>(Statement)) {
      if (const CXXConstructorDecl *Ctor = Construct->getConstructor())
        if (!Ctor->isCopyOrMoveConstructor())
          callInto(*Ctor, Construct->getBeginLoc(), /*OnThis=*/false, Held);
    }
  }

private:
  void declared(const VarDecl &Var, HeldSet &Held) {
    const Expr *Init = strip(Var.getInit());
    if (const auto *Await = dyn_cast_or_null<CoawaitExpr>(Init)) {
      // A scoped async lock: the guard variable now releases it.
      if (const Expr *Mutex = asyncLockObject(*Await)) {
        auto It = Held.find(manualKey(*Mutex));
        if (It != Held.end()) {
          HeldLock Lock = std::move(It->second);
          Held.erase(It);
          Held[nodeKey("g", &Var)] = std::move(Lock);
        }
      }
      return;
    }
    const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(Init);
    if (!Construct)
      return;
    std::optional<GuardConstruction> Guard =
        classifyGuardConstruction(*Construct);
    if (!Guard)
      return;
    llvm::SmallVector<LockRef, 2> Refs;
    for (const Expr *Mutex : Guard->Mutexes)
      Refs.push_back(State.lockOf(Mutex));
    Guards[&Var] = Refs;
    const std::string Key = nodeKey("g", &Var);
    if (Guard->Blocks) {
      acquire(Key, Refs, Var.getLocation(), Held);
    } else if (Guard->Owns) {
      // adopt_lock: the lock taken by hand now belongs to the guard.
      std::optional<HeldLock> Adopted;
      for (const Expr *Mutex : Guard->Mutexes) {
        auto It = Held.find(manualKey(*Mutex));
        if (It == Held.end())
          continue;
        if (!Adopted)
          Adopted = It->second;
        Held.erase(It);
      }
      if (Adopted) {
        Adopted->Locks = Refs;
        Held[Key] = std::move(*Adopted);
      }
    }
  }

  void awaited(const CoawaitExpr &Await, HeldSet &Held) {
    if (Await.isImplicit())
      return;
    if (const Expr *Mutex = asyncLockObject(Await)) {
      acquire(manualKey(*Mutex), {State.lockOf(Mutex)}, Await.getBeginLoc(),
              Held);
      return;
    }
    // A coroutine's body runs where it is awaited, not where it is called.
    if (const auto *Call =
            dyn_cast_or_null<CallExpr>(strip(Await.getOperand())))
      if (const FunctionDecl *Callee = Call->getDirectCallee()) {
        if (isCoroutine(*Callee))
          callInto(*Callee, callBegin(*Call), onThis(*Call), Held,
                   /*Awaited=*/true);
        else if (Fact && Record)
          // Defined elsewhere: a coroutine or not, `coroscope link` knows.
          recordCall(*Callee, callBegin(*Call), Held, /*Awaited=*/true);
      }
  }

  void call(const CallExpr &Call, HeldSet &Held) {
    const FunctionDecl *Callee = Call.getDirectCallee();
    if (!Callee)
      return;
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
      if (guardCall(*Member, Held))
        return;
    if (std::optional<ManualLockCall> Manual = classifyManualLockCall(Call)) {
      if (Manual->Acquires)
        acquire(manualKey(*Manual->Mutex), {State.lockOf(Manual->Mutex)},
                Call.getBeginLoc(), Held);
      else
        Held.erase(manualKey(*Manual->Mutex));
      return;
    }
    const bool Std = Callee->isInStdNamespace();
    if (Std && Callee->getIdentifier()) {
      const StringRef CalleeName = Callee->getName();
      if (CalleeName == "lock" && Call.getNumArgs() >= 2 &&
          !isa<CXXMethodDecl>(Callee)) {
        jointLock(Call, Held);
        return;
      }
      if (CalleeName == "move" && Call.getNumArgs() == 1) {
        if (const VarDecl *Var = referencedVar(Call.getArg(0)))
          Held.erase(nodeKey("g", Var));
        return;
      }
    }
    // Unlocking an asynchronous mutex locked by hand.
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
      if (Callee->getIdentifier() && (Callee->getName() == "unlock" ||
                                      Callee->getName() == "unlock_shared"))
        if (const Expr *Object = Member->getImplicitObjectArgument())
          Held.erase(manualKey(*Object));
    if (!isCoroutine(*Callee))
      callInto(*Callee, callBegin(Call), onThis(Call), Held);
  }

  /// std::lock(a, b, ...): no order among its own mutexes.
  void jointLock(const CallExpr &Call, HeldSet &Held) {
    llvm::SmallVector<LockRef, 2> Refs;
    for (const Expr *Arg : Call.arguments())
      Refs.push_back(State.lockOf(Arg));
    checkAgainstHeld(Refs, Call.getBeginLoc(), Held);
    for (unsigned I = 0; I < Call.getNumArgs(); ++I)
      Held[manualKey(*Call.getArg(I))] = {
          {Refs[I]}, Call.getBeginLoc(), State.siteOf(Call.getBeginLoc())};
  }

  /// unique_lock-style calls on a guard variable.
  bool guardCall(const CXXMemberCallExpr &Call, HeldSet &Held) {
    const VarDecl *Var = referencedVar(Call.getImplicitObjectArgument());
    auto It = Var ? Guards.find(Var) : Guards.end();
    const CXXMethodDecl *Method = Call.getMethodDecl();
    if (It == Guards.end() || !Method || !Method->getIdentifier())
      return false;
    const StringRef MethodName = Method->getName();
    const std::string Key = nodeKey("g", Var);
    if (MethodName == "unlock" || MethodName == "release")
      Held.erase(Key);
    else if (MethodName == "lock")
      acquire(Key, It->second, Call.getBeginLoc(), Held);
    return true;
  }

  const Expr *asyncLockObject(const CoawaitExpr &Await) const {
    const auto *Call =
        dyn_cast_or_null<CXXMemberCallExpr>(strip(Await.getOperand()));
    const CXXMethodDecl *Method = Call ? Call->getMethodDecl() : nullptr;
    if (!Method ||
        !State.AsyncLockFunctions->findMatch({plainQualifiedName(*Method)}))
      return nullptr;
    return Call->getImplicitObjectArgument();
  }

  std::string manualKey(const Expr &Mutex) {
    LockRef Ref = State.lockOf(&Mutex);
    if (!Ref.Object.empty())
      return "m" + Ref.Object;
    return "t" + shortSourceText(*strip(&Mutex), *State.Ctx, 200);
  }

  static bool onThis(const CallExpr &Call) {
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
      return isThisObject(Member->getImplicitObjectArgument());
    return false;
  }

  /// Orders every held lock before \p Class, acquired at \p At (through
  /// \p Via); a held lock of that class that \p SameObject accepts is a
  /// self-deadlock.
  void orderAfterHeld(const std::string &Class,
                      llvm::function_ref<bool(const LockRef &)> SameObject,
                      SourceLocation At, const HeldSet &Held,
                      const std::vector<Step> &Via) {
    for (const auto &[Key, Lock] : Held)
      for (const LockRef &HeldRef : Lock.Locks) {
        if (HeldRef.Class.empty())
          continue;
        if (HeldRef.Class != Class)
          addEdge(HeldRef.Class, Class, At, Lock, Via);
        else if (SameObject(HeldRef))
          selfDeadlock(Class, At, Lock, Via);
      }
  }

  /// Acquiring \p Refs here, jointly.
  void checkAgainstHeld(llvm::ArrayRef<LockRef> Refs, SourceLocation At,
                        const HeldSet &Held) {
    if (!Record)
      return;
    for (const LockRef &Ref : Refs)
      if (!Ref.Class.empty())
        orderAfterHeld(Ref.Class,
                       [&](const LockRef &HeldRef) {
                         return !Ref.Recursive && !Ref.Object.empty() &&
                                Ref.Object == HeldRef.Object;
                       },
                       At, Held, {});
  }

  void acquire(const std::string &Key, llvm::ArrayRef<LockRef> Refs,
               SourceLocation At, HeldSet &Held) {
    checkAgainstHeld(Refs, At, Held);
    if (Record) {
      Site AtSite = State.siteOf(At);
      for (const LockRef &Ref : Refs)
        if (!Ref.Class.empty()) {
          summarise(Ref.Class, {Ref.Kind, Ref.Recursive, {{Name, AtSite}}});
          if (Fact)
            Fact->Acquires.push_back({Ref.Class, AtSite});
        }
    }
    Held[Key] = {llvm::SmallVector<LockRef, 2>(Refs.begin(), Refs.end()), At,
                 State.siteOf(At)};
  }

  /// A call to a function defined in this TU: what it acquires is acquired
  /// here, at the call.
  void callInto(const FunctionDecl &Callee, SourceLocation At, bool OnThis,
                const HeldSet &Held, bool Awaited = false) {
    if (!Record)
      return;
    if (Fact)
      recordCall(Callee, At, Held, Awaited);
    const FunctionDecl *Definition = Callee.getDefinition();
    if (!Definition || !Definition->hasBody() ||
        State.Boundary->isLibraryCode(*Definition))
      return;
    const Summary &Callees = State.summaryOf(*Definition);
    if (Callees.Acquires.empty())
      return;
    Site AtSite = State.siteOf(At);
    for (const auto &Entry : Callees.Acquires) {
      const std::string &Class = Entry.first;
      const Acquisition &Acquired = Entry.second;
      ObjectKind Kind = Acquired.Kind;
      if (Kind == ObjectKind::ThisMember && !OnThis)
        Kind = ObjectKind::Other;
      // Through a call, only a global or this object's member is known to
      // be the same object.
      orderAfterHeld(
          Class,
          [&](const LockRef &HeldRef) {
            return !Acquired.Recursive && Kind != ObjectKind::Other &&
                   Kind == HeldRef.Kind;
          },
          At, Held, Acquired.Chain);
      Acquisition Through{Kind, Acquired.Recursive, {{Name, AtSite}}};
      Through.Chain.insert(Through.Chain.end(), Acquired.Chain.begin(),
                           Acquired.Chain.end());
      summarise(Class, std::move(Through));
    }
  }

  /// The call in the function's facts, for `coroscope link` to follow into
  /// other translation units.
  void recordCall(const FunctionDecl &Callee, SourceLocation At,
                  const HeldSet &Held, bool Awaited) {
    if (State.Boundary->isLibraryCode(Callee))
      return;
    std::string Usr = functionUsr(Callee, *State.Places);
    if (Usr.empty())
      return;
    Site AtSite = State.siteOf(At);
    for (lockgraph::CallFact &Existing : Fact->Calls)
      if (Existing.Usr == Usr && Existing.At.key() == AtSite.key()) {
        Existing.Awaited |= Awaited;
        return;
      }
    if (Fact->Calls.size() >= lockgraph::MaxCallsPerFunction)
      return;
    lockgraph::CallFact Call{
        std::move(Usr), State.functionName(Callee), AtSite, {}, Awaited, {}};
    for (const auto &[Key, Lock] : Held)
      for (const LockRef &Ref : Lock.Locks)
        if (!Ref.Class.empty() &&
            Call.Held.size() < lockgraph::MaxHeldPerCall &&
            llvm::none_of(Call.Held, [&](const lockgraph::HeldAtCall &H) {
              return H.Lock == Ref.Class;
            }))
          Call.Held.push_back({Ref.Class, Lock.AtSite});
    Fact->Calls.push_back(std::move(Call));
  }

  void summarise(const std::string &Class, Acquisition A) {
    State.Locks.insert(Class);
    auto [It, Inserted] = Record->Acquires.try_emplace(Class, A);
    if (!Inserted && std::make_tuple(A.Chain.size(), A.Chain.front().At.key()) <
                         std::make_tuple(It->second.Chain.size(),
                                         It->second.Chain.front().At.key()))
      It->second = std::move(A);
  }

  void addEdge(const std::string &From, const std::string &To,
               SourceLocation At, const HeldLock &Lock,
               const std::vector<Step> &Via) {
    Edge E;
    E.From = From;
    E.To = To;
    E.Function = Name;
    E.At = State.siteOf(At);
    E.HeldAt = Lock.AtSite;
    E.Via = Via;
    E.TranslationUnit = State.Places->translationUnit();
    State.Locks.insert(From);
    State.Locks.insert(To);
    State.Graph.add(std::move(E));
  }

  void selfDeadlock(const std::string &Class, SourceLocation At,
                    const HeldLock &Lock, const std::vector<Step> &Via) {
    SourceLocation Loc = State.Ctx->getSourceManager().getExpansionLoc(At);
    State.SelfDeadlocks.try_emplace(
        Loc, SelfDeadlock{Loc, Lock.At, Class, Name, Via});
  }

  LockOrderCheck::Analysis &State;
  Summary *Record;
  lockgraph::FunctionFact *Fact = nullptr;
  std::string Name;
  llvm::DenseMap<const VarDecl *, llvm::SmallVector<LockRef, 2>> Guards;
};

} // namespace

void LockOrderCheck::Analysis::analyze(const FunctionDecl &FD,
                                       Summary &Result) {
  const Stmt *Body = userBody(FD);
  if (!Body || FD.isDependentContext())
    return;
  std::unique_ptr<CFG> Graph = buildFlowCFG(FD, *Body, *Ctx);
  if (!Graph)
    return;
  // "May be held" to a fixpoint first, without recording; then one pass
  // records orders, self-deadlocks and the summary.
  OrderFlow Flow(*this, FD, nullptr);
  auto Transfer = [&](const CFGElement &Element, HeldSet &Held) {
    Flow.transfer(Element, Held);
  };
  auto In = solveMayAnalysis<HeldSet>(*Graph, Transfer);
  lockgraph::FunctionFact *Fact = nullptr;
  if (WantFacts) {
    Fact = &FunctionFacts[&FD];
    Fact->Usr = functionUsr(FD, *Places);
    Fact->Name = functionName(FD);
    Fact->At = siteOf(FD.getLocation());
    Fact->Hash = definitionHash(FD, Fact->Usr, *Ctx);
    Fact->Coroutine = isCoroutine(FD);
  }
  Flow.record(&Result, Fact);
  replayMayAnalysis(*Graph, In, Transfer);
}

LockOrderCheck::LockOrderCheck(StringRef Name,
                               clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      AsyncLockFunctionsOption(
          Options.get("AsyncLockFunctions", DefaultAsyncLockFunctions)),
      FactsDirectory(Options.get("FactsDirectory", "")),
      FactsRoot(Options.get("FactsRoot", "")), Library(*this, Name, Options),
      AsyncLockFunctions(AsyncLockFunctionsOption),
      State(std::make_unique<Analysis>()) {
  reportInvalidNameLists(*this, Name,
                         {{"AsyncLockFunctions", &AsyncLockFunctions}});
}

LockOrderCheck::~LockOrderCheck() = default;

void LockOrderCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Library.store(Options, Opts);
  Options.store(Opts, "AsyncLockFunctions", AsyncLockFunctionsOption);
  Options.store(Opts, "FactsDirectory", FactsDirectory);
  Options.store(Opts, "FactsRoot", FactsRoot);
}

void LockOrderCheck::registerMatchers(MatchFinder *Finder) {
  addFunctionMatchers(*Finder, this, /*OnlyCoroutines=*/false);
}

void LockOrderCheck::check(const MatchFinder::MatchResult &Result) {
  State->Ctx = Result.Context;
  State->Boundary = &Library.Boundary;
  for (const FunctionDecl *FD : matchedFunctions(Result, Library.Boundary))
    if (FD->hasBody() && !FD->isDependentContext() &&
        State->Seen.insert(FD).second)
      State->Functions.push_back(FD);
}

void LockOrderCheck::onEndOfTranslationUnit() {
  if (!State->Ctx) {
    State = std::make_unique<Analysis>();
    return;
  }
  Analysis &A = *State;
  A.AsyncLockFunctions = &AsyncLockFunctions;
  // Sites are written relative to FactsRoot (the source tree, for builds
  // that compile in a separate directory), else to the working directory.
  A.Places.emplace(*A.Ctx, FactsRoot);
  A.WantFacts = !FactsDirectory.empty();

  for (const FunctionDecl *FD : A.Functions)
    A.summaryOf(*FD);

  for (const lockgraph::Cycle &Cycle : A.Graph.cycles()) {
    const Edge &First = *Cycle.Edges.front();
    diag(A.locationOf(First.At), "%0") << lockgraph::cycleMessage(Cycle);
    for (const Edge *E : Cycle.Edges)
      diag(A.locationOf(E->At), "%0", DiagnosticIDs::Note)
          << lockgraph::describe(*E);
  }
  for (const auto &[Loc, Finding] : A.SelfDeadlocks) {
    diag(Finding.At,
         "'%0' is locked again in '%1' while it is already held%select{|, "
         "through a call to '%3'}2; a non-recursive mutex deadlocks on its "
         "own thread")
        << Finding.Class << Finding.Function << !Finding.Via.empty()
        << (Finding.Via.empty() ? "" : Finding.Via.front().Function);
    diag(Finding.HeldAt, "'%0' is first locked here", DiagnosticIDs::Note)
        << Finding.Class;
    for (size_t I = 0; I < Finding.Via.size(); ++I)
      diag(A.locationOf(Finding.Via[I].At),
           "%select{'%1' calls on here|'%1' locks '%2' here}0",
           DiagnosticIDs::Note)
          << (I + 1 == Finding.Via.size()) << Finding.Via[I].Function
          << Finding.Class;
  }
  if (!FactsDirectory.empty())
    writeFacts();
  State = std::make_unique<Analysis>();
}

void LockOrderCheck::writeFacts() {
  lockgraph::Facts Facts;
  Facts.Check = "coro-lock-order-inversion";
  Facts.TranslationUnit = State->Places->translationUnit();
  Facts.Inputs = State->Places->inputs();
  Facts.Locks.assign(State->Locks.begin(), State->Locks.end());
  for (const auto &[Key, E] : State->Graph.edges()) {
    Facts.Edges.push_back(E);
    Facts.Edges.back().TranslationUnit = Facts.TranslationUnit;
  }
  for (auto &[FD, Fact] : State->FunctionFacts)
    if (!Fact.Usr.empty() && (!Fact.Acquires.empty() || !Fact.Calls.empty()))
      Facts.Functions.push_back(std::move(Fact));
  std::string Error = State->Places->write(FactsDirectory, ".lockfacts.json",
                                           lockgraph::writeFacts(Facts));
  if (!Error.empty())
    configurationDiag("cannot write lock-order facts to %0",
                      DiagnosticIDs::Error)
        << Error;
}

} // namespace coroscope
