//===--- TaskFates.cpp - where a created task goes, and when it runs ------===//

#include "TaskFates.h"
#include "CoroutineKnowledge.h"
#include "MayAnalysis.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMap.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include <map>

using namespace clang;

namespace coroscope {

namespace {

/// Calls inside one co_await operand, without entering lambdas.
class OperandCalls : public EvaluatedCodeVisitor<OperandCalls> {
public:
  OperandCalls(const ASTContext &Ctx, llvm::DenseSet<const CallExpr *> &Calls)
      : EvaluatedCodeVisitor(Ctx), Calls(Calls) {}
  bool VisitCallExpr(CallExpr *E) {
    Calls.insert(E);
    return true;
  }
  bool VisitCoawaitExpr(CoawaitExpr *E) {
    if (!E->isImplicit() && E->getOperand())
      TraverseStmt(E->getOperand());
    return true;
  }

private:
  llvm::DenseSet<const CallExpr *> &Calls;
};

bool isTransparentWrapper(const Expr &E) {
  if (isa<ImplicitCastExpr, MaterializeTemporaryExpr, CXXBindTemporaryExpr,
          ExprWithCleanups, ParenExpr, ConstantExpr, CXXFunctionalCastExpr>(E))
    return true;
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(&E))
    return Construct->getNumArgs() == 1 &&
           Construct->getConstructor()->isCopyOrMoveConstructor();
  if (const auto *Call = dyn_cast<CallExpr>(&E))
    return isStdMoveOrForward(*Call);
  return false;
}

/// The statement above \p E in \p Parents, past what only wraps or moves
/// the value; \p Child is set to the outermost wrapper.
const Stmt *contextOf(const Expr &E, const ParentMap &Parents,
                      const Expr *&Child) {
  Child = &E;
  for (;;) {
    const Stmt *Parent = Parents.getParent(Child);
    const auto *Wrapper = dyn_cast_or_null<Expr>(Parent);
    if (!Wrapper || !isTransparentWrapper(*Wrapper))
      return Parent;
    Child = Wrapper;
  }
}

bool isCoroutineFunction(const FunctionDecl &FD) {
  return isa_and_nonnull<CoroutineBodyStmt>(FD.getBody());
}

/// The local variable \p E names, through std::move and wrappers.
const VarDecl *localNamedBy(const Expr *E) {
  for (E = skipTransparent(E); E;) {
    if (const auto *Call = dyn_cast<CallExpr>(E);
        Call && isStdMoveOrForward(*Call)) {
      E = skipTransparent(Call->getArg(0));
      continue;
    }
    if (const auto *Temporary = dyn_cast<MaterializeTemporaryExpr>(E)) {
      E = skipTransparent(Temporary->getSubExpr());
      continue;
    }
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(E);
        Construct && Construct->getNumArgs() == 1 &&
        Construct->getConstructor()->isCopyOrMoveConstructor()) {
      E = skipTransparent(Construct->getArg(0));
      continue;
    }
    break;
  }
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(E);
  const auto *Var = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
  return Var && Var->hasLocalStorage() && !Var->getType()->isReferenceType()
             ? Var
             : nullptr;
}

/// `v.push_back(x)` and its kin.
bool isPushCall(const CallExpr &Call) {
  const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
  if (!Member || !Member->getMethodDecl() ||
      !Member->getMethodDecl()->getIdentifier())
    return false;
  StringRef Name = Member->getMethodDecl()->getName();
  return Name == "push_back" || Name == "emplace_back" ||
         Name == "push_front" || Name == "emplace_front" || Name == "push" ||
         Name == "emplace" || Name == "insert";
}

/// The container a push call adds to, when a local.
const VarDecl *pushedInto(const CallExpr &Call) {
  return isPushCall(Call)
             ? localNamedBy(
                   cast<CXXMemberCallExpr>(Call).getImplicitObjectArgument())
             : nullptr;
}

std::optional<std::string> calleeMatch(const CallExpr &Call,
                                       const NameList &Names) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || Names.empty())
    return std::nullopt;
  if (Names.findMatch({plainQualifiedName(*Callee)}))
    return plainQualifiedName(*Callee);
  return std::nullopt;
}

/// The calls a co_await makes on its operand: `await_transform(x)` and
/// `operator co_await`.
bool isAwaitMachinery(const CallExpr &Call) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee)
    return false;
  if (Callee->getOverloadedOperator() == OO_Coawait)
    return true;
  return Callee->getIdentifier() && Callee->getName() == "await_transform";
}

/// The target of an assignment `lhs = rhs`, when \p Call or \p E is one.
std::pair<const Expr *, const Expr *> assignment(const Stmt &S) {
  if (const auto *Binary = dyn_cast<BinaryOperator>(&S))
    if (Binary->getOpcode() == BO_Assign)
      return {Binary->getLHS(), Binary->getRHS()};
  if (const auto *Operator = dyn_cast<CXXOperatorCallExpr>(&S))
    if (Operator->getOperator() == OO_Equal && Operator->getNumArgs() == 2)
      return {Operator->getArg(0), Operator->getArg(1)};
  return {nullptr, nullptr};
}

/// Moves of tasks between locals: `auto u = std::move(t)`, `u = std::move(t)`,
/// `tasks.push_back(std::move(t))`, and a range-for over a container.
class Transfers : public EvaluatedCodeVisitor<Transfers> {
public:
  explicit Transfers(const ASTContext &Ctx) : EvaluatedCodeVisitor(Ctx) {}
  bool VisitVarDecl(VarDecl *V) {
    if (V->hasLocalStorage() && V->getInit())
      edge(localNamedBy(V->getInit()), V);
    return true;
  }
  bool VisitExpr(Expr *E) {
    if (auto [LHS, RHS] = assignment(*E); LHS)
      edge(localNamedBy(RHS), localNamedBy(LHS));
    if (const auto *Call = dyn_cast<CallExpr>(E))
      if (const VarDecl *Container = pushedInto(*Call))
        for (const Expr *Arg : Call->arguments())
          edge(localNamedBy(Arg), Container);
    return true;
  }
  // `for (auto &t : tasks) co_await t;` awaits the container's tasks.
  bool VisitCXXForRangeStmt(CXXForRangeStmt *S) {
    edge(localNamedBy(S->getRangeInit()), S->getLoopVariable());
    return true;
  }
  /// \p From and every local its task may move to.
  llvm::SmallVector<const ValueDecl *, 4> closure(const VarDecl *From) const {
    llvm::SmallVector<const ValueDecl *, 4> Result{From};
    for (size_t I = 0; I < Result.size(); ++I)
      for (const auto &[A, B] : Edges)
        if (A == Result[I] && !llvm::is_contained(Result, B))
          Result.push_back(B);
    return Result;
  }

private:
  void edge(const VarDecl *From, const VarDecl *To) {
    if (From && To && From != To)
      Edges.emplace_back(From, To);
  }
  std::vector<std::pair<const ValueDecl *, const ValueDecl *>> Edges;
};

TaskFate makeFate(FateKind Kind, const VarDecl *Holder = nullptr,
                  bool Pushed = false, std::string Target = "") {
  TaskFate Fate;
  Fate.Kind = Kind;
  Fate.Holder = Holder;
  Fate.Pushed = Pushed;
  Fate.Target = std::move(Target);
  return Fate;
}

/// Facts: (borrow index, dead) -> where it died.
using DeathFacts = std::map<std::pair<size_t, bool>, SourceLocation>;

} // namespace

llvm::DenseSet<const CallExpr *>
callsAwaitedInPlace(const FunctionDecl &Caller) {
  llvm::DenseSet<const CallExpr *> Calls;
  struct Awaits : EvaluatedCodeVisitor<Awaits> {
    using EvaluatedCodeVisitor::EvaluatedCodeVisitor;
    llvm::DenseSet<const CallExpr *> *Calls;
    bool VisitCoawaitExpr(CoawaitExpr *E) {
      if (!E->isImplicit() && E->getOperand())
        OperandCalls(Ctx, *Calls).TraverseStmt(E->getOperand());
      return true;
    }
  } Finder(Caller.getASTContext());
  Finder.Calls = &Calls;
  if (const Stmt *Body = userBody(Caller))
    Finder.TraverseStmt(const_cast<Stmt *>(Body));
  return Calls;
}

TaskFate fateOf(const CallExpr &Creation, const FunctionDecl &Caller,
                const llvm::DenseSet<const CallExpr *> &AwaitedInPlace,
                const ParentMap &Parents, const FateOptions &Options) {
  if (AwaitedInPlace.contains(&Creation))
    return makeFate(FateKind::AwaitedInPlace);
  const Expr *Child = nullptr;
  const Stmt *S = contextOf(Creation, Parents, Child);
  if (!S)
    return makeFate(FateKind::Unknown);
  if (const auto *Declaration = dyn_cast<DeclStmt>(S)) {
    for (const Decl *D : Declaration->decls())
      if (const auto *Var = dyn_cast<VarDecl>(D);
          Var && Var->getInit() == Child)
        return Var->hasLocalStorage()
                   ? makeFate(FateKind::Stored, Var)
                   : makeFate(FateKind::Kept, nullptr, false,
                              "'" + Var->getName().str() + "'");
    return makeFate(FateKind::Unknown);
  }
  if (isa<ReturnStmt>(S))
    return isCoroutineFunction(Caller) ? makeFate(FateKind::Unknown)
                                       : makeFate(FateKind::Returned);
  if (auto [LHS, RHS] = assignment(*S); LHS && RHS == Child) {
    if (const VarDecl *Var = localNamedBy(LHS))
      return makeFate(FateKind::Stored, Var);
    if (const auto *Member = dyn_cast<MemberExpr>(skipTransparent(LHS)))
      return makeFate(FateKind::Kept, nullptr, false,
                      "'" + Member->getMemberDecl()->getName().str() + "'");
    return makeFate(FateKind::Unknown);
  }
  if (const auto *Call = dyn_cast<CallExpr>(S)) {
    if (std::optional<std::string> Spawn =
            calleeMatch(*Call, Options.SpawnFunctions)) {
      // `co_spawn(..., use_future).get()` waits in the same statement.
      const Expr *SpawnChild = nullptr;
      if (isa_and_nonnull<MemberExpr>(contextOf(*Call, Parents, SpawnChild)))
        return makeFate(FateKind::Unknown);
      return makeFate(FateKind::Spawned, nullptr, false, "'" + *Spawn + "'");
    }
    if (isPushCall(*Call)) {
      if (const VarDecl *Container = pushedInto(*Call))
        return makeFate(FateKind::Stored, Container, true);
      const auto *Member = cast<CXXMemberCallExpr>(Call);
      if (const auto *Field = dyn_cast<MemberExpr>(
              skipTransparent(Member->getImplicitObjectArgument())))
        return makeFate(FateKind::Kept, nullptr, true,
                        "'" + Field->getMemberDecl()->getName().str() + "'");
    }
    return makeFate(FateKind::Unknown);
  }
  // A statement of its own: the value is discarded.
  if (!isa<Expr>(S))
    return makeFate(FateKind::Detached);
  return makeFate(FateKind::Unknown);
}

std::vector<PendingAfterDeath>
pendingAfterDeath(const FunctionDecl &Caller,
                  llvm::ArrayRef<StoredBorrow> Borrows,
                  const llvm::DenseSet<const CallExpr *> &AwaitedInPlace,
                  ASTContext &Ctx, const FateOptions &Options) {
  std::vector<PendingAfterDeath> Result;
  const Stmt *Body = userBody(Caller);
  if (Borrows.empty() || !Body)
    return Result;
  CFG::BuildOptions BuildOptions;
  BuildOptions.AddImplicitDtors = true;
  BuildOptions.AddLifetime = true;
  BuildOptions.setAllAlwaysAdd();
  std::unique_ptr<CFG> Graph = CFG::buildCFG(
      &Caller, const_cast<Stmt *>(Caller.getBody()), &Ctx, BuildOptions);
  if (!Graph)
    return Result;

  Transfers Moves(Ctx);
  Moves.TraverseStmt(const_cast<Stmt *>(Body));
  std::vector<llvm::SmallVector<const ValueDecl *, 4>> Holders;
  for (const StoredBorrow &B : Borrows)
    Holders.push_back(Moves.closure(B.Holder));
  const bool ReturnsTask = !isCoroutineFunction(Caller);

  // Which holder of borrow \p I an event statement names.
  auto HolderIn = [&](size_t I, const Stmt *S) -> const VarDecl * {
    for (const ValueDecl *H : Holders[I])
      if (referencesAny(S, {H}))
        return cast<VarDecl>(H);
    return nullptr;
  };
  // An await, run, spawn or return of a task that \p S makes pending.
  auto EventOf = [&](const Stmt &S) -> std::optional<std::string> {
    if (const auto *Await = dyn_cast<CoawaitExpr>(&S))
      return Await->isImplicit() ? std::nullopt
                                 : std::optional<std::string>("awaited");
    if (const auto *Call = dyn_cast<CallExpr>(&S)) {
      if (std::optional<std::string> Name =
              calleeMatch(*Call, Options.SpawnFunctions))
        return "spawned by '" + *Name + "'";
      if (std::optional<std::string> Name =
              calleeMatch(*Call, Options.RunnerFunctions))
        return "run by '" + *Name + "'";
    }
    if (isa<ReturnStmt>(S) && ReturnsTask)
      return "returned from '" + functionDiagName(Caller) + "'";
    return std::nullopt;
  };
  auto Operand = [](const Stmt &S) -> const Stmt * {
    if (const auto *Await = dyn_cast<CoawaitExpr>(&S))
      return Await->getOperand();
    return &S;
  };

  std::map<size_t, PendingAfterDeath> First;
  const SourceManager &SM = Ctx.getSourceManager();
  auto Transfer = [&](const CFGElement &Element, DeathFacts &Facts,
                      bool Report) {
    auto Died = [&](const VarDecl *Var, SourceLocation At) {
      for (size_t I = 0; I < Borrows.size(); ++I) {
        if (Borrows[I].Borrowed->Variable == Var && Facts.count({I, false})) {
          Facts.erase({I, false});
          Facts.emplace(std::make_pair(I, true), At);
        }
        // The holder's own end: the task died with it.
        if (Holders[I].size() == 1 && Holders[I][0] == Var) {
          Facts.erase({I, false});
          Facts.erase({I, true});
        }
      }
    };
    // Where a scope ends; a variable whose scope has no statement ends with
    // the function.
    auto EndOf = [&](const Stmt *Scope) {
      return Scope ? Scope->getEndLoc() : Caller.getEndLoc();
    };
    if (auto Dtor = Element.getAs<CFGAutomaticObjDtor>()) {
      Died(Dtor->getVarDecl(), EndOf(Dtor->getTriggerStmt()));
      return;
    }
    if (auto End = Element.getAs<CFGLifetimeEnds>()) {
      Died(End->getVarDecl(), EndOf(End->getTriggerStmt()));
      return;
    }
    auto Element_ = Element.getAs<CFGStmt>();
    if (!Element_)
      return;
    const Stmt *S = Element_->getStmt();
    std::optional<std::string> Event = EventOf(*S);
    auto [AssignedTo, Assigned] = assignment(*S);
    const auto *Call = dyn_cast<CallExpr>(S);
    for (size_t I = 0; I < Borrows.size(); ++I) {
      const StoredBorrow &B = Borrows[I];
      if (S == B.Creation) {
        // A new task replaces the holder's; a container keeps both.
        if (!isPushCall(*cast<CallExpr>(S))) {
          Facts.erase({I, false});
          Facts.erase({I, true});
        }
        const bool Temporary = B.Borrowed->Object == ObjectKind::Temporary;
        Facts.emplace(std::make_pair(I, Temporary), SourceLocation());
        continue;
      }
      if (Event) {
        if (const VarDecl *Holder = HolderIn(I, Operand(*S))) {
          auto Dead = Facts.find({I, true});
          const bool Returned = isa<ReturnStmt>(S);
          const bool Pending =
              Dead != Facts.end() || (Returned && Facts.count({I, false}));
          if (Report && Pending) {
            PendingAfterDeath P{
                I, Dead != Facts.end() ? Dead->second : SourceLocation(),
                S->getBeginLoc(), *Event, Holder};
            auto [It, Inserted] = First.try_emplace(I, P);
            if (!Inserted &&
                SM.isBeforeInTranslationUnit(P.PendingAt, It->second.PendingAt))
              It->second = P;
          }
          // The task has run: a later await of the holder is of another
          // task, or of nothing.
          Facts.erase({I, false});
          Facts.erase({I, true});
          continue;
        }
      }
      // A new value replaces the task.
      if (AssignedTo && localNamedBy(AssignedTo) &&
          llvm::is_contained(Holders[I], localNamedBy(AssignedTo)) &&
          !llvm::is_contained(Holders[I], localNamedBy(Assigned))) {
        const auto *Creation = dyn_cast<CallExpr>(skipTransparent(Assigned));
        if (Creation != B.Creation) {
          Facts.erase({I, false});
          Facts.erase({I, true});
        }
        continue;
      }
      // Handed to a function we cannot follow: its fate is unknown.
      if (Call && !AwaitedInPlace.contains(Call) &&
          !isStdMoveOrForward(*Call) && !pushedInto(*Call) &&
          !isAwaitMachinery(*Call))
        for (const Expr *Arg : Call->arguments())
          if (const VarDecl *Named = localNamedBy(Arg);
              Named && llvm::is_contained(Holders[I], Named)) {
            Facts.erase({I, false});
            Facts.erase({I, true});
          }
    }
  };
  std::vector<std::optional<DeathFacts>> In = solveMayAnalysis<DeathFacts>(
      *Graph, [&](const CFGElement &E, DeathFacts &Facts) {
        Transfer(E, Facts, /*Report=*/false);
      });
  replayMayAnalysis(*Graph, In, [&](const CFGElement &E, DeathFacts &Facts) {
    Transfer(E, Facts, /*Report=*/true);
  });
  for (auto &[Index, P] : First)
    Result.push_back(P);
  return Result;
}

} // namespace coroscope
