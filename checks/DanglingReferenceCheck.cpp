//===--- DanglingReferenceCheck.cpp - coro-dangling-reference -------------===//

#include "DanglingReferenceCheck.h"
#include "AwaitKnowledge.h"
#include "BorrowedObjects.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "FindingsByLocation.h"
#include "TaskFates.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/TypeLoc.h"
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

const char *const DefaultViewTypes = "std::basic_string_view;std::span";
const char *const DefaultSpawnFunctions =
    "asio::co_spawn;boost::asio::co_spawn;spawn_detached;spawn_joinable";
const char *const DefaultRunnerFunctions =
    "sync_wait;blocking_wait;blockingWait;start";
const char *const DefaultLambdaWrappers =
    "folly::coro::co_invoke;seastar::coroutine::lambda";

struct Note {
  SourceLocation Loc;
  std::string Text;
};

struct Finding {
  SourceLocation Loc;
  std::string Message;
  std::vector<Note> Notes;
  /// Take this parameter by value (the callee's definition).
  const ParmVarDecl *ByValue = nullptr;
  /// Remove this `&` or `&&` from a reference variable's declaration.
  SourceLocation RemoveSigil;
  InstantiationNote Instantiation;
};

/// Calls in a body that create tasks.
class CreationScanner : public EvaluatedCodeVisitor<CreationScanner> {
public:
  /// The task a call of type T creates, and whether it is a fire-and-forget
  /// coroutine (an eager one nobody can await).
  using TaskLookup =
      llvm::function_ref<std::optional<std::pair<TaskInfo, bool>>(QualType)>;
  CreationScanner(const ASTContext &Ctx, TaskLookup TaskFor)
      : EvaluatedCodeVisitor(Ctx), TaskFor(TaskFor) {}

  bool VisitCallExpr(CallExpr *E) {
    if (E->isPRValue() && !isStdMoveOrForward(*E))
      if (auto Task = TaskFor(E->getType()))
        Creations.push_back({E, Task->first, Task->second});
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (V->getType()->isReferenceType() && V->getInit())
      References.push_back(V);
    return true;
  }
  bool VisitDeclRefExpr(DeclRefExpr *E) {
    if (const auto *Var = dyn_cast<VarDecl>(E->getDecl()))
      FirstUse.try_emplace(Var, E->getLocation());
    return true;
  }

  struct Creation {
    const CallExpr *Call;
    TaskInfo Task;
    bool FireAndForget;
  };
  std::vector<Creation> Creations;
  std::vector<const VarDecl *> References;
  llvm::DenseMap<const VarDecl *, SourceLocation> FirstUse;

private:
  TaskLookup TaskFor;
};

/// "lookup", "Client::fetch", "serve::(lambda at server.cpp:40:18)".
std::string taskName(const FunctionDecl &Coroutine) {
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&Coroutine);
      Method && Method->getParent()->isLambda())
    return reportFunctionName(Coroutine);
  return calleeName(Coroutine);
}

unsigned lineOf(SourceLocation Loc, const SourceManager &SM) {
  return SM.getPresumedLineNumber(SM.getExpansionLoc(Loc));
}

/// "bound to a temporary 'std::string' that is destroyed at the end of this
/// statement", "lives in lambda 'handler', which is destroyed at line 12".
std::string boundPhrase(const Borrow &B, SourceLocation DiedAt,
                        const std::string &CallerName,
                        const SourceManager &SM) {
  const bool Capture = B.Kind == BorrowKind::Capture;
  std::string Object;
  switch (B.Object) {
  case ObjectKind::Temporary:
    if (Capture)
      return "lives in a temporary lambda that is destroyed at the end of "
             "this statement";
    return std::string(B.Kind == BorrowKind::This ? "is" : "is bound to") +
           " a temporary '" + B.TemporaryType +
           "' that is destroyed at the end of this statement";
  case ObjectKind::Local:
    Object = (Capture ? "lambda '" : "local variable '") +
             B.Variable->getName().str() + "'";
    break;
  case ObjectKind::CallerParameter:
    Object = "parameter '" + B.Variable->getName().str() + "' of '" +
             CallerName + "'";
    break;
  }
  std::string When = DiedAt.isValid()
                         ? "at line " + std::to_string(lineOf(DiedAt, SM))
                         : "when '" + CallerName + "' returns";
  return std::string(Capture ? "lives in " : "is bound to ") + Object +
         ", which is destroyed " + When;
}

std::string quoted(const VarDecl &V) { return "'" + V.getName().str() + "'"; }

/// True when a `const T &` or `T &&` parameter can take a T by value in
/// every call the program makes: T can be copied, or moved for `&&`.
bool canTakeByValue(const ParmVarDecl &Param, bool RValue) {
  QualType T = Param.getType().getNonReferenceType();
  if (T->isDependentType() || T->isIncompleteType() || T->isArrayType() ||
      T->isFunctionType())
    return false;
  const CXXRecordDecl *Class = T->getAsCXXRecordDecl();
  if (!Class)
    return true;
  if (!Class->hasDefinition() || Class->isAbstract())
    return false;
  if (Class->hasSimpleCopyConstructor() ||
      (RValue && Class->hasSimpleMoveConstructor()))
    return true;
  for (const CXXConstructorDecl *Ctor : Class->ctors())
    if ((Ctor->isCopyConstructor() || (RValue && Ctor->isMoveConstructor())) &&
        !Ctor->isDeleted() && Ctor->getAccess() == AS_public)
      return true;
  return false;
}

/// The parameter's type as a value type, when the change is certain: a
/// `const T &` or `T &&` parameter of a non-template coroutine declared
/// once, in the main file, outside macros.
std::optional<std::pair<CharSourceRange, std::string>>
byValueFix(const ParmVarDecl &Param, const ASTContext &Ctx) {
  const auto *Function = dyn_cast<FunctionDecl>(Param.getDeclContext());
  if (!Function || isInstantiated(*Function) ||
      Function->getDescribedFunctionTemplate() ||
      Function->isDependentContext() || Function->getPreviousDecl() ||
      Function->getMostRecentDecl() != Function)
    return std::nullopt;
  const SourceManager &SM = Ctx.getSourceManager();
  const TypeSourceInfo *Info = Param.getTypeSourceInfo();
  if (!Info || !SM.isInMainFile(Param.getLocation()))
    return std::nullopt;
  TypeLoc Written = Info->getTypeLoc();
  auto Reference = Written.getAs<ReferenceTypeLoc>();
  if (!Reference)
    return std::nullopt;
  QualType Pointee = Param.getType().getNonReferenceType();
  const bool RValue = Param.getType()->isRValueReferenceType();
  if ((!RValue && !Pointee.isConstQualified()) ||
      (RValue && Pointee.isConstQualified()) || Pointee.isVolatileQualified() ||
      Pointee->isPointerType() || !canTakeByValue(Param, RValue))
    return std::nullopt;
  // Qualifiers have no location in a TypeLoc: the declaration starts at
  // `const`.
  SourceRange Whole(Param.getBeginLoc(), Reference.getSigilLoc());
  SourceRange Value =
      Reference.getPointeeLoc().getUnqualifiedLoc().getSourceRange();
  if (Whole.getBegin().isMacroID() || Whole.getEnd().isMacroID() ||
      Value.getBegin().isMacroID() || Value.getEnd().isMacroID())
    return std::nullopt;
  bool Invalid = false;
  StringRef Text = Lexer::getSourceText(CharSourceRange::getTokenRange(Value),
                                        SM, Ctx.getLangOpts(), &Invalid);
  if (Invalid || Text.empty())
    return std::nullopt;
  std::string Replacement = Text.str();
  // `const std::string &key` becomes `std::string key`.
  SourceLocation After =
      Lexer::getLocForEndOfToken(Whole.getEnd(), 0, SM, Ctx.getLangOpts());
  const char *Next = SM.getCharacterData(After, &Invalid);
  if (!Invalid && (isAlphanumeric(*Next) || *Next == '_'))
    Replacement += " ";
  return std::make_pair(CharSourceRange::getTokenRange(Whole), Replacement);
}

} // namespace

struct DanglingReferenceCheck::Analysis {
  ASTContext *Ctx = nullptr;
  std::optional<TaskClassifier> Classifier;
  llvm::DenseMap<const Type *, std::optional<std::pair<TaskInfo, bool>>> Tasks;
  llvm::DenseSet<const FunctionDecl *> Seen;
  FindingsByLocation<Finding> Findings;
};

DanglingReferenceCheck::DanglingReferenceCheck(
    StringRef Name, clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      ViewTypesOption(Options.get("ViewTypes", DefaultViewTypes)),
      SpawnFunctionsOption(
          Options.get("SpawnFunctions", DefaultSpawnFunctions)),
      RunnerFunctionsOption(
          Options.get("RunnerFunctions", DefaultRunnerFunctions)),
      LambdaWrappersOption(
          Options.get("LambdaWrappers", DefaultLambdaWrappers)),
      Library(*this, Name, Options), ViewTypes(ViewTypesOption),
      SpawnFunctions(SpawnFunctionsOption),
      RunnerFunctions(RunnerFunctionsOption),
      LambdaWrappers(LambdaWrappersOption),
      State(std::make_unique<Analysis>()) {
  reportInvalidNameLists(*this, Name,
                         {{"ViewTypes", &ViewTypes},
                          {"SpawnFunctions", &SpawnFunctions},
                          {"RunnerFunctions", &RunnerFunctions},
                          {"LambdaWrappers", &LambdaWrappers}});
}

DanglingReferenceCheck::~DanglingReferenceCheck() = default;

void DanglingReferenceCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Library.store(Options, Opts);
  Options.store(Opts, "ViewTypes", ViewTypesOption);
  Options.store(Opts, "SpawnFunctions", SpawnFunctionsOption);
  Options.store(Opts, "RunnerFunctions", RunnerFunctionsOption);
  Options.store(Opts, "LambdaWrappers", LambdaWrappersOption);
}

void DanglingReferenceCheck::registerMatchers(MatchFinder *Finder) {
  addFunctionMatchers(*Finder, this, /*OnlyCoroutines=*/false);
}

void DanglingReferenceCheck::check(const MatchFinder::MatchResult &Result) {
  if (State->Ctx != Result.Context) {
    State->Ctx = Result.Context;
    State->Classifier.emplace(*Result.Context);
  }
  for (const FunctionDecl *FD : matchedFunctions(Result, Library.Boundary))
    // The CFG and the bindings need concrete types: templates are analysed
    // through their instantiations.
    if (FD->hasBody() && !FD->isDependentContext() &&
        State->Seen.insert(FD).second)
      analyzeFunction(*FD);
}

void DanglingReferenceCheck::analyzeFunction(const FunctionDecl &FD) {
  ASTContext &Ctx = *State->Ctx;
  const SourceManager &SM = Ctx.getSourceManager();
  auto TaskFor = [&](QualType T) -> std::optional<std::pair<TaskInfo, bool>> {
    T = T.getNonReferenceType();
    if (T.isNull() || T->isDependentType() || !T->isRecordType())
      return std::nullopt;
    auto [It, Inserted] = State->Tasks.try_emplace(T.getTypePtr());
    if (Inserted) {
      if (std::optional<TaskInfo> Task = State->Classifier->classify(T))
        It->second = {*Task, false};
      else if (const CXXRecordDecl *Promise = State->Classifier->promiseOf(T);
               Promise &&
               State->Classifier->startOf(*Promise) == TaskStart::Eager)
        It->second = {
            TaskInfo{T->getAsCXXRecordDecl(), Promise, TaskStart::Eager}, true};
    }
    return It->second;
  };
  CreationScanner Scanner(Ctx, TaskFor);
  const Stmt *Body = userBody(FD);
  if (!Body)
    return;
  Scanner.TraverseStmt(const_cast<Stmt *>(Body));
  const std::string CallerName = functionDiagName(FD);
  auto Record = [&](Finding F) { State->Findings.add(FD, std::move(F)); };

  // References to the result of a co_await that points into a temporary.
  for (const VarDecl *V : Scanner.References) {
    const Expr *Init = V->getInit();
    if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(Init))
      Init = Cleanups->getSubExpr();
    Init = Init->IgnoreParenNoopCasts(Ctx);
    const auto *Await = dyn_cast<CoawaitExpr>(Init);
    if (!Await || Await->isImplicit())
      continue;
    std::string Owner = awaitResultOwner(*Await, *State->Classifier, Ctx);
    auto Use = Scanner.FirstUse.find(V);
    if (Owner.empty() || Use == Scanner.FirstUse.end())
      continue;
    Finding F;
    F.Loc = V->getLocation();
    F.Message = "reference " + quoted(*V) +
                " is bound to the result of a co_await that refers into the "
                "temporary " +
                Owner + ", which is destroyed at the end of this statement; " +
                quoted(*V) + " is used at line " +
                std::to_string(lineOf(Use->second, SM));
    F.Notes.push_back({Await->getBeginLoc(), "the temporary is awaited here"});
    F.Notes.push_back(
        {Use->second, quoted(*V) + " is used here, after it was destroyed"});
    if (TypeSourceInfo *Info = V->getTypeSourceInfo())
      if (auto Reference = Info->getTypeLoc().getAs<ReferenceTypeLoc>())
        if (Reference.getSigilLoc().isFileID() && !isInstantiated(FD))
          F.RemoveSigil = Reference.getSigilLoc();
    Record(std::move(F));
  }

  if (Scanner.Creations.empty())
    return;
  const BorrowOptions Borrowing{*State->Classifier, Library.Boundary, ViewTypes,
                                LambdaWrappers};
  const FateOptions Fates{SpawnFunctions, RunnerFunctions};
  const llvm::DenseSet<const CallExpr *> InPlace = callsAwaitedInPlace(FD);
  struct Created {
    TaskCreation Creation;
    TaskFate Fate;
    bool FireAndForget;
  };
  std::vector<Created> Creations;
  std::optional<ParentMap> Parents;
  for (const CreationScanner::Creation &C : Scanner.Creations) {
    std::optional<TaskCreation> Creation =
        findBorrows(*C.Call, C.Task, Ctx, Borrowing);
    if (!Creation || Creation->Borrows.empty())
      continue;
    // Nothing can await a fire-and-forget coroutine: it runs detached.
    TaskFate Fate;
    Fate.Kind = FateKind::Detached;
    if (!C.FireAndForget) {
      if (!Parents)
        Parents.emplace(const_cast<Stmt *>(FD.getBody()));
      Fate = fateOf(*C.Call, FD, InPlace, *Parents, Fates);
    }
    if (Fate.Kind != FateKind::AwaitedInPlace && Fate.Kind != FateKind::Unknown)
      Creations.push_back({std::move(*Creation), Fate, C.FireAndForget});
  }

  auto Report = [&](const Created &C, const Borrow &B, SourceLocation DiedAt,
                    const std::string &FatePhrase,
                    std::vector<Note> FateNotes) {
    const TaskCreation &T = C.Creation;
    Finding F;
    F.Loc = B.BoundAt;
    F.Message = B.Subject + " of " +
                (C.FireAndForget                   ? "fire-and-forget coroutine"
                 : T.Task.Start == TaskStart::Lazy ? "lazy task"
                                                   : "eager task") +
                " '" + taskName(*T.Coroutine) + "' " +
                boundPhrase(B, DiedAt, CallerName, SM) + "; " + FatePhrase;
    if (DiedAt.isValid())
      F.Notes.push_back(
          {DiedAt, "'" + B.Variable->getName().str() + "' is destroyed here"});
    for (Note &N : FateNotes)
      F.Notes.push_back(std::move(N));
    const std::string Read = B.Kind == BorrowKind::This ? "reads its object"
                             : B.Kind == BorrowKind::Capture
                                 ? "reads the " + B.Subject
                                 : "reads '" + B.Param->getName().str() + "'";
    F.Notes.push_back(
        {B.UsedAt,
         "'" + taskName(*T.Coroutine) + "' " + Read + " here" +
             (T.Task.Start == TaskStart::Eager ? ", after it first suspends"
                                               : ", when the task runs")});
    if (B.Kind == BorrowKind::Parameter)
      F.ByValue = B.Param;
    Record(std::move(F));
  };

  std::vector<StoredBorrow> Stored;
  std::vector<std::pair<const Created *, const Borrow *>> StoredOwners;
  for (const Created &C : Creations) {
    const bool Eager = C.Creation.Task.Start == TaskStart::Eager;
    for (const Borrow &B : C.Creation.Borrows) {
      const bool Temporary = B.Object == ObjectKind::Temporary;
      switch (C.Fate.Kind) {
      case FateKind::Stored:
        Stored.push_back({C.Creation.Call, &B, C.Fate.Holder});
        StoredOwners.emplace_back(&C, &B);
        break;
      case FateKind::Returned:
        Report(C, B, SourceLocation(),
               "the task is returned from '" + CallerName + "'", {});
        break;
      case FateKind::Spawned:
        if (Temporary)
          Report(C, B, SourceLocation(),
                 "the task is spawned by " + C.Fate.Target +
                     " and runs after this statement",
                 {});
        break;
      case FateKind::Detached:
        if (Temporary && Eager)
          Report(C, B, SourceLocation(),
                 C.FireAndForget ? "it runs detached and resumes after this "
                                   "statement"
                                 : "the task is not awaited, and resumes after "
                                   "this statement",
                 {});
        break;
      case FateKind::Kept:
        if (Temporary)
          Report(C, B, SourceLocation(),
                 std::string("the task is ") +
                     (C.Fate.Pushed ? "pushed into " : "stored in ") +
                     C.Fate.Target + " and outlives this statement",
                 {});
        break;
      case FateKind::AwaitedInPlace:
      case FateKind::Unknown:
        break;
      }
    }
  }
  for (const PendingAfterDeath &P :
       pendingAfterDeath(FD, Stored, InPlace, Ctx, Fates)) {
    const auto &[C, B] = StoredOwners[P.Index];
    const StoredBorrow &S = Stored[P.Index];
    const bool Returned = P.How.rfind("returned", 0) == 0;
    std::string Phrase = std::string("the task is ") +
                         (C->Fate.Pushed ? "pushed into " : "stored in ") +
                         quoted(*S.Holder) + " and " + P.How;
    if (!Returned)
      Phrase += " at line " + std::to_string(lineOf(P.PendingAt, SM));
    Report(*C, *B, Returned ? SourceLocation() : P.DiedAt, Phrase,
           {{P.PendingAt, "the task is " + P.How + " here"}});
  }
}

void DanglingReferenceCheck::onEndOfTranslationUnit() {
  if (!State->Ctx) {
    State = std::make_unique<Analysis>();
    return;
  }
  const SourceManager &SM = State->Ctx->getSourceManager();
  llvm::DenseSet<const ParmVarDecl *> Fixed;
  for (const Finding *F : State->Findings.ordered(SM)) {
    {
      auto Diag = diag(F->Loc, "%0") << F->Message;
      if (F->ByValue && Fixed.insert(F->ByValue).second)
        if (auto Fix = byValueFix(*F->ByValue, *State->Ctx))
          Diag << FixItHint::CreateReplacement(Fix->first, Fix->second);
      if (F->RemoveSigil.isValid())
        Diag << FixItHint::CreateRemoval(
            CharSourceRange::getTokenRange(F->RemoveSigil, F->RemoveSigil));
    }
    for (const Note &N : F->Notes)
      diag(N.Loc, "%0", DiagnosticIDs::Note) << N.Text;
    if (!F->Instantiation.Name.empty())
      diag(F->Instantiation.Loc, "in the instantiation '%0', instantiated here",
           DiagnosticIDs::Note)
          << F->Instantiation.Name;
  }
  State = std::make_unique<Analysis>();
}

} // namespace coroscope
