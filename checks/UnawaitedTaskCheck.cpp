//===--- UnawaitedTaskCheck.cpp - coro-unawaited-task ---------------------===//

#include "UnawaitedTaskCheck.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "FindingsByLocation.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseSet.h"
#include <optional>
#include <vector>

using namespace clang;
using namespace clang::ast_matchers;

namespace coroscope {

namespace {

enum class FindingKind { Discarded, VoidCast, Stored };

/// A finding waiting for the end of the translation unit, where findings of
/// a template's pattern and of its instantiations are merged, and where the
/// whole TU's co_await expressions can vouch for a fix-it.
struct Finding {
  FindingKind Kind;
  SourceLocation Loc;
  std::string TypeName;
  TaskInfo Task;
  bool Awaiter = false; // a plain awaiter, not a task
  std::string Producer; // the function that returned the task, or ""
  std::string Variable; // Stored only
  SourceLocation ScopeEnd;
  // The fix-it: "co_await " (and parentheses) around Range, when the
  // enclosing coroutine's promise accepts the task.
  SourceRange FixRange;
  bool FixNeedsParens = false;
  const CXXRecordDecl *FixPromise = nullptr;
  InstantiationNote Instantiation;
};

const Expr *stripImplicit(const Expr *E) {
  for (const Expr *Previous = nullptr; E && E != Previous;) {
    Previous = E;
    E = E->IgnoreImplicit()->IgnoreParens();
  }
  return E;
}

/// Templates are keyed by their pattern, so that evidence from awaiting a
/// `Task<int>` in a `Task<long>` coroutine counts for the whole template.
const Decl *templateKey(const CXXRecordDecl *RD) {
  if (!RD)
    return nullptr;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
    return Spec->getSpecializedTemplate()->getCanonicalDecl();
  if (const CXXRecordDecl *Pattern = RD->getTemplateInstantiationPattern())
    RD = Pattern;
  if (const ClassTemplateDecl *Described = RD->getDescribedClassTemplate())
    return Described->getCanonicalDecl();
  return RD->getCanonicalDecl();
}

/// Walks one function body (not nested lambdas, which are functions of their
/// own) and collects discarded task calls, local task variables and whether
/// anything could await them, and the types the body co_awaits.
class BodyScanner : public EvaluatedCodeVisitor<BodyScanner> {
public:
  using TaskLookup = llvm::function_ref<std::optional<TaskInfo>(QualType)>;
  using AwaiterLookup = llvm::function_ref<bool(QualType)>;

  struct Discard {
    const CallExpr *Call;
    bool ViaVoidCast;
    TaskInfo Task;
    bool Awaiter;
  };
  struct Local {
    const VarDecl *Var;
    const CallExpr *Producer; // the call that made the task, if visible
    SourceLocation ScopeEnd;
    TaskInfo Task;
    bool Used = false;
  };

  /// \p AwaiterFor is null outside coroutines, where a discarded awaiter
  /// is not reported.
  BodyScanner(const ASTContext &Ctx, TaskLookup TaskFor,
              std::optional<AwaiterLookup> AwaiterFor)
      : EvaluatedCodeVisitor(Ctx), TaskFor(TaskFor), AwaiterFor(AwaiterFor) {}

  std::vector<Discard> Discards;
  std::vector<Local> Locals;
  std::vector<QualType> AwaitedTypes;

  // Statement positions, where an expression's value is discarded.
  bool VisitCompoundStmt(CompoundStmt *S) {
    const bool ValueIsUsed = StatementExpressionBodies.contains(S);
    for (Stmt *Child : S->body()) {
      if (auto *DS = dyn_cast<DeclStmt>(Child))
        ScopeEnds[DS] = S->getRBracLoc();
      else if (!(ValueIsUsed && Child == S->body_back()))
        discardedStatement(Child);
    }
    return true;
  }
  bool VisitStmtExpr(StmtExpr *E) {
    StatementExpressionBodies.insert(E->getSubStmt());
    return true;
  }
  // A non-dependent `if constexpr` is walked without VisitIfStmt, through
  // its taken branch only.
  bool TraverseIfStmt(IfStmt *S) {
    if (S->isConstexpr() && S->getCond() && !S->getCond()->isValueDependent())
      if (std::optional<Stmt *> Taken = S->getNondiscardedCase(Ctx)) {
        scopedDeclarations(S->getInit(), S->getConditionVariableDeclStmt(),
                           S->getEndLoc());
        if (*Taken)
          discardedStatement(*Taken);
      }
    return EvaluatedCodeVisitor::TraverseIfStmt(S);
  }
  bool VisitIfStmt(IfStmt *S) {
    scopedDeclarations(S->getInit(), S->getConditionVariableDeclStmt(),
                       S->getEndLoc());
    discardedStatement(S->getThen());
    discardedStatement(S->getElse());
    return true;
  }
  bool VisitSwitchStmt(SwitchStmt *S) {
    scopedDeclarations(S->getInit(), S->getConditionVariableDeclStmt(),
                       S->getEndLoc());
    return true;
  }
  bool VisitWhileStmt(WhileStmt *S) {
    scopedDeclarations(nullptr, S->getConditionVariableDeclStmt(),
                       S->getEndLoc());
    discardedStatement(S->getBody());
    return true;
  }
  bool VisitDoStmt(DoStmt *S) {
    discardedStatement(S->getBody());
    return true;
  }
  bool VisitForStmt(ForStmt *S) {
    scopedDeclarations(S->getInit(), S->getConditionVariableDeclStmt(),
                       S->getEndLoc());
    if (auto *Increment = S->getInc())
      discarded(Increment, /*ViaVoidCast=*/false);
    discardedStatement(S->getBody());
    return true;
  }
  bool VisitCXXForRangeStmt(CXXForRangeStmt *S) {
    scopedDeclarations(S->getInit(), nullptr, S->getEndLoc());
    discardedStatement(S->getBody());
    return true;
  }
  bool VisitSwitchCase(SwitchCase *S) {
    discardedStatement(S->getSubStmt());
    return true;
  }
  bool VisitLabelStmt(LabelStmt *S) {
    discardedStatement(S->getSubStmt());
    return true;
  }
  bool VisitAttributedStmt(AttributedStmt *S) {
    discardedStatement(S->getSubStmt());
    return true;
  }

  bool VisitDeclStmt(DeclStmt *S) {
    auto End = ScopeEnds.find(S);
    if (End == ScopeEnds.end())
      return true;
    for (Decl *D : S->decls()) {
      const auto *Var = dyn_cast<VarDecl>(D);
      if (!Var || isa<DecompositionDecl>(Var) || !Var->isLocalVarDecl() ||
          Var->isStaticLocal() || Var->getType()->isReferenceType())
        continue;
      const Expr *Init = stripImplicit(Var->getInit());
      if (!Init)
        continue;
      if (const auto *Construct = dyn_cast<CXXConstructExpr>(Init))
        if (Construct->getNumArgs() == 0)
          continue; // an empty task, not a created coroutine
      std::optional<TaskInfo> Task = TaskFor(Var->getType());
      if (!Task)
        continue;
      LocalIndex[Var] = Locals.size();
      Locals.push_back({Var, dyn_cast<CallExpr>(Init), End->second, *Task});
    }
    return true;
  }

  // Uses of local tasks. Any use that could await, move, pass on or keep the
  // task counts, and so does a capture (visited through its initializer).
  bool VisitDeclRefExpr(DeclRefExpr *E) {
    const auto *Var = dyn_cast<VarDecl>(E->getDecl());
    if (!Var || HarmlessUses.contains(E))
      return true;
    if (auto It = LocalIndex.find(Var); It != LocalIndex.end())
      Locals[It->second].Used = true;
    return true;
  }
  // `(void)task;` silences -Wunused-variable and starts nothing.
  bool VisitExplicitCastExpr(ExplicitCastExpr *E) {
    if (E->getType()->isVoidType())
      if (const auto *Ref =
              dyn_cast<DeclRefExpr>(stripImplicit(E->getSubExpr())))
        HarmlessUses.insert(Ref);
    return true;
  }
  // Asking a task whether it is ready does not start it.
  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *E) {
    const CXXMethodDecl *Method = E->getMethodDecl();
    if (Method && Method->getIdentifier() && Method->getName() == "await_ready")
      if (const auto *Ref = dyn_cast<DeclRefExpr>(
              stripImplicit(E->getImplicitObjectArgument())))
        HarmlessUses.insert(Ref);
    return true;
  }

  bool VisitCoawaitExpr(CoawaitExpr *E) {
    if (!E->isImplicit() && E->getOperand())
      AwaitedTypes.push_back(E->getOperand()->getType());
    return true;
  }

private:
  void discardedStatement(Stmt *S) {
    if (auto *E = dyn_cast_or_null<Expr>(S))
      discarded(E, /*ViaVoidCast=*/false);
  }

  void scopedDeclarations(Stmt *Init, DeclStmt *Condition, SourceLocation End) {
    if (auto *DS = dyn_cast_or_null<DeclStmt>(Init))
      ScopeEnds[DS] = End;
    else
      discardedStatement(Init);
    if (Condition)
      ScopeEnds[Condition] = End;
  }

  void discarded(const Expr *E, bool ViaVoidCast) {
    E = stripImplicit(E);
    if (!E)
      return;
    if (const auto *Cast = dyn_cast<ExplicitCastExpr>(E)) {
      if (Cast->getType()->isVoidType())
        discarded(Cast->getSubExpr(), /*ViaVoidCast=*/true);
      return;
    }
    if (const auto *Binary = dyn_cast<BinaryOperator>(E)) {
      if (Binary->getOpcode() == BO_Comma) {
        discarded(Binary->getLHS(), /*ViaVoidCast=*/false);
        discarded(Binary->getRHS(), ViaVoidCast);
      }
      return;
    }
    if (const auto *Conditional = dyn_cast<AbstractConditionalOperator>(E)) {
      discarded(Conditional->getTrueExpr(), ViaVoidCast);
      discarded(Conditional->getFalseExpr(), ViaVoidCast);
      return;
    }
    const auto *Call = dyn_cast<CallExpr>(E);
    if (!Call || !Call->isPRValue())
      return;
    if (std::optional<TaskInfo> Task = TaskFor(Call->getType()))
      Discards.push_back({Call, ViaVoidCast, *Task, false});
    else if (AwaiterFor && (*AwaiterFor)(Call->getType()))
      Discards.push_back({Call, ViaVoidCast,
                          TaskInfo{Call->getType()->getAsCXXRecordDecl(),
                                   nullptr, TaskStart::Lazy},
                          true});
  }

  TaskLookup TaskFor;
  std::optional<AwaiterLookup> AwaiterFor;
  llvm::DenseSet<const CompoundStmt *> StatementExpressionBodies;
  llvm::DenseMap<const DeclStmt *, SourceLocation> ScopeEnds;
  llvm::DenseMap<const VarDecl *, size_t> LocalIndex;
  llvm::DenseSet<const DeclRefExpr *> HarmlessUses;
};

/// "'compute'", "'Server::refresh'", "'(lambda at x.cpp:3:4)'", or the
/// callee's source text for calls through pointers and std::function.
std::string producerName(const CallExpr &Call, const ASTContext &Ctx) {
  if (const FunctionDecl *Callee = Call.getDirectCallee())
    return calleeName(*Callee);
  if (const Expr *Callee = Call.getCallee())
    return shortSourceText(*Callee, Ctx);
  return "";
}

/// True when `co_await ` placed before \p E would bind to less than \p E.
bool needsParentheses(const Expr &E) {
  const auto *Operator = dyn_cast<CXXOperatorCallExpr>(&E);
  if (!Operator)
    return false;
  switch (Operator->getOperator()) {
  case OO_Call:
  case OO_Subscript:
  case OO_Arrow:
    return false;
  default:
    return true;
  }
}

/// The task type as the user knows it: its class with namespaces and
/// template arguments, after the alias it was spelled with, if any:
/// "'asio::awaitable<void>'", "'Job' (aka 'cppcoro::task<int>')". Library
/// return types spelled through decltype and traits print as the class.
std::string taskTypeName(QualType Written, const ASTContext &Ctx) {
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  const std::string Canonical = Written.getNonReferenceType()
                                    .getCanonicalType()
                                    .getUnqualifiedType()
                                    .getAsString(Policy);
  std::string Name = "'" + Canonical + "'";
  if (const auto *Alias = Written->getAs<TypedefType>()) {
    const TypedefNameDecl *Decl = Alias->getDecl();
    if (!Ctx.getSourceManager().isInSystemHeader(Decl->getLocation()) &&
        Decl->getName() != Canonical)
      Name = "'" + Decl->getName().str() + "' (aka " + Name + ")";
  }
  return Name;
}

llvm::StringRef consequence(TaskStart Start) {
  return Start == TaskStart::Lazy
             ? "its body never runs"
             : "it runs detached; its result and exceptions are lost";
}

} // namespace

/// Per-translation-unit state.
struct UnawaitedTaskCheck::Analysis {
  ASTContext *Ctx = nullptr;
  std::optional<TaskClassifier> Classifier;
  llvm::DenseMap<const Type *, std::optional<TaskInfo>> Tasks;
  llvm::DenseSet<const FunctionDecl *> Seen;
  FindingsByLocation<Finding> Findings;
  // (promise, task) templates that some co_await in the TU combines.
  llvm::DenseSet<std::pair<const Decl *, const Decl *>> AwaitedIn;
};

UnawaitedTaskCheck::UnawaitedTaskCheck(StringRef Name,
                                       clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      TaskTypesOption(Options.get("TaskTypes", "")),
      IgnoredTypesOption(Options.get("IgnoredTypes", "")),
      ReportEagerDiscard(Options.get("ReportEagerDiscard", true)),
      AllowVoidCastForLazy(Options.get("AllowVoidCastForLazy", false)),
      Library(*this, Name, Options), TaskTypes(TaskTypesOption),
      IgnoredTypes(IgnoredTypesOption), State(std::make_unique<Analysis>()) {
  reportInvalidNameLists(
      *this, Name, {{"TaskTypes", &TaskTypes}, {"IgnoredTypes", &IgnoredTypes}});
}

UnawaitedTaskCheck::~UnawaitedTaskCheck() = default;

void UnawaitedTaskCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Library.store(Options, Opts);
  Options.store(Opts, "TaskTypes", TaskTypesOption);
  Options.store(Opts, "IgnoredTypes", IgnoredTypesOption);
  Options.store(Opts, "ReportEagerDiscard", ReportEagerDiscard);
  Options.store(Opts, "AllowVoidCastForLazy", AllowVoidCastForLazy);
}

void UnawaitedTaskCheck::registerMatchers(MatchFinder *Finder) {
  addFunctionMatchers(*Finder, this, /*OnlyCoroutines=*/false);
}

void UnawaitedTaskCheck::check(const MatchFinder::MatchResult &Result) {
  if (State->Ctx != Result.Context) {
    State->Ctx = Result.Context;
    State->Classifier.emplace(*Result.Context);
  }
  for (const FunctionDecl *FD : matchedFunctions(Result, Library.Boundary))
    analyzeFunction(*FD);
}

void UnawaitedTaskCheck::analyzeFunction(const FunctionDecl &FD) {
  if (!FD.hasBody() || !State->Seen.insert(&FD).second)
    return;
  ASTContext &Ctx = *State->Ctx;
  auto TaskFor = [&](QualType T) -> std::optional<TaskInfo> {
    T = T.getNonReferenceType();
    if (T.isNull() || T->isDependentType() || !T->isRecordType())
      return std::nullopt;
    auto [It, Inserted] = State->Tasks.try_emplace(T.getTypePtr());
    if (!Inserted)
      return It->second;
    // The options name the class or any alias it is spelled through.
    llvm::SmallVector<std::string, 4> Names;
    if (const CXXRecordDecl *Class = T->getAsCXXRecordDecl())
      Names.push_back(plainQualifiedName(*Class));
    for (QualType Sugar = T; const auto *Alias = Sugar->getAs<TypedefType>();
         Sugar = Alias->desugar())
      Names.push_back(plainQualifiedName(*Alias->getDecl()));
    std::optional<TaskInfo> Task;
    if (!IgnoredTypes.findMatch(Names)) {
      Task = State->Classifier->classify(T);
      if (!Task && TaskTypes.findMatch(Names)) {
        const CXXRecordDecl *Promise = State->Classifier->promiseOf(T);
        Task = TaskInfo{T->getAsCXXRecordDecl(), Promise,
                        Promise ? State->Classifier->startOf(*Promise)
                                : TaskStart::Eager};
      }
    }
    return State->Tasks[T.getTypePtr()] = Task;
  };

  // A discarded awaiter is a bug only where it could have been awaited.
  auto AwaiterFor = [&](QualType T) {
    if (!State->Classifier->isAwaiter(T))
      return false;
    const CXXRecordDecl *Class = T->getAsCXXRecordDecl();
    return Class && !IgnoredTypes.findMatch({plainQualifiedName(*Class)});
  };
  const auto *Coroutine = dyn_cast_or_null<CoroutineBodyStmt>(FD.getBody());
  BodyScanner Scanner(
      Ctx, TaskFor,
      Coroutine ? std::optional<BodyScanner::AwaiterLookup>(AwaiterFor)
                : std::nullopt);
  if (const Stmt *Body = userBody(FD))
    Scanner.TraverseStmt(const_cast<Stmt *>(Body));

  const CXXRecordDecl *Promise = nullptr;
  if (Coroutine)
    if (const VarDecl *PromiseVar = Coroutine->getPromiseDecl()) {
      Promise = classForMembers(PromiseVar->getType());
      // In a template the promise type is dependent; the return type's
      // pattern still names it.
      if (!Promise)
        Promise = State->Classifier->promiseOf(FD.getReturnType());
    }
  if (Promise)
    for (QualType Awaited : Scanner.AwaitedTypes) {
      if (std::optional<TaskInfo> Task = TaskFor(Awaited))
        State->AwaitedIn.insert(
            {templateKey(Promise), templateKey(Task->Class)});
      else if (State->Classifier->isAwaiter(Awaited))
        State->AwaitedIn.insert(
            {templateKey(Promise),
             templateKey(Awaited.getNonReferenceType()->getAsCXXRecordDecl())});
    }

  const bool Instantiated = isInstantiated(FD);
  const SourceManager &SM = Ctx.getSourceManager();
  auto Record = [&](Finding F) {
    if (Instantiated)
      F.FixPromise = nullptr; // a fix is certain only for the written code
    State->Findings.add(FD, std::move(F));
  };

  for (const BodyScanner::Discard &D : Scanner.Discards) {
    if (D.Task.Start == TaskStart::Eager &&
        (D.ViaVoidCast || !ReportEagerDiscard))
      continue;
    if (D.ViaVoidCast && AllowVoidCastForLazy)
      continue;
    Finding F;
    F.Kind = D.ViaVoidCast ? FindingKind::VoidCast : FindingKind::Discarded;
    SourceRange Range(callBegin(*D.Call), D.Call->getEndLoc());
    F.Loc = Range.getBegin();
    F.TypeName = taskTypeName(D.Call->getType(), Ctx);
    F.Task = D.Task;
    F.Awaiter = D.Awaiter;
    F.Producer = producerName(*D.Call, Ctx);
    if (Promise && Range.getBegin().isFileID() && Range.getEnd().isFileID() &&
        SM.getFileID(Range.getBegin()) == SM.getFileID(Range.getEnd())) {
      F.FixRange = Range;
      F.FixNeedsParens = needsParentheses(*D.Call);
      F.FixPromise = Promise;
    }
    Record(std::move(F));
  }
  for (const BodyScanner::Local &L : Scanner.Locals) {
    if (L.Used || (L.Task.Start == TaskStart::Eager && !ReportEagerDiscard))
      continue;
    Finding F;
    F.Kind = FindingKind::Stored;
    F.Loc = L.Var->getLocation();
    QualType Type = L.Var->getType();
    // `auto` is named after what initialized it.
    if (Type->getContainedDeducedType())
      Type = L.Producer ? L.Producer->getType() : Type.getCanonicalType();
    F.TypeName = taskTypeName(Type, Ctx);
    F.Task = L.Task;
    F.Variable = L.Var->getName().str();
    F.ScopeEnd = L.ScopeEnd;
    if (L.Producer)
      F.Producer = producerName(*L.Producer, Ctx);
    Record(std::move(F));
  }
}

void UnawaitedTaskCheck::onEndOfTranslationUnit() {
  if (!State->Ctx) {
    State = std::make_unique<Analysis>();
    return;
  }
  const SourceManager &SM = State->Ctx->getSourceManager();
  const LangOptions &LangOpts = State->Ctx->getLangOpts();
  for (const Finding *F : State->Findings.ordered(SM)) {
    const std::string Producer =
        F->Producer.empty() ? "" : " returned by '" + F->Producer + "'";
    if (F->Kind == FindingKind::Stored) {
      diag(F->Loc, "variable '%0' holds task %1%2, which is never awaited, "
                   "moved or passed on; %3")
          << F->Variable << F->TypeName << Producer
          << consequence(F->Task.Start);
      diag(F->ScopeEnd, "'%0' goes out of scope here", DiagnosticIDs::Note)
          << F->Variable;
    } else {
      auto Diag = diag(F->Loc, "%select{task|awaitable}0 %1%2 is "
                               "%select{discarded|cast to void}3 without being "
                               "awaited; %4")
                  << F->Awaiter << F->TypeName << Producer
                  << (F->Kind == FindingKind::VoidCast)
                  << (F->Awaiter ? "it does nothing unless it is co_awaited"
                                 : consequence(F->Task.Start));
      // The fix is certain when the coroutine's promise visibly accepts the
      // task, or when the TU already awaits this task in such a coroutine.
      if (F->FixPromise &&
          (State->Classifier->awaitableIn(F->Task, *F->FixPromise) ||
           State->AwaitedIn.contains(
               {templateKey(F->FixPromise), templateKey(F->Task.Class)}))) {
        SourceLocation After =
            Lexer::getLocForEndOfToken(F->FixRange.getEnd(), 0, SM, LangOpts);
        Diag << FixItHint::CreateInsertion(F->FixRange.getBegin(),
                                           F->FixNeedsParens ? "co_await ("
                                                             : "co_await ");
        if (F->FixNeedsParens)
          Diag << FixItHint::CreateInsertion(After, ")");
      }
    }
    if (!F->Instantiation.Name.empty())
      diag(F->Instantiation.Loc,
           "only in the instantiation '%0'; it is instantiated here",
           DiagnosticIDs::Note)
          << F->Instantiation.Name;
  }
  State = std::make_unique<Analysis>();
}

} // namespace coroscope
