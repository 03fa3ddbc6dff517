//===--- BlockingCallCheck.cpp - coro-blocking-call -----------------------===//

#include "BlockingCallCheck.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "FindingsByLocation.h"
#include "HeldLocks.h"
#include "NonBlockingIo.h"
#include "TranslationUnitFacts.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"
#include <deque>

using namespace clang;
using namespace clang::ast_matchers;

namespace coroscope {

namespace {

/// A blocking call found directly in some function's evaluated code.
struct DirectBlock {
  SourceLocation Loc;
  BlockingCall Call;
};

/// One call from Caller to Callee, a function the analysis may follow.
struct CallEdge {
  SourceLocation Loc;
  const FunctionDecl *Callee;
};

/// What one function's body does, as far as blocking goes.
struct FunctionSummary {
  std::optional<DirectBlock> FirstBlock;
  std::vector<CallEdge> Edges;
};

/// A chain Caller -> ... -> blocking call, for notes.
struct BlockingPath {
  struct Step {
    SourceLocation Loc;
    const FunctionDecl *Caller;
    const FunctionDecl *Callee;
  };
  std::vector<Step> Steps; // calls after the first one, in order
  const FunctionDecl *LeafFunction;
  DirectBlock Leaf;
};

/// A finding waiting for the end of the translation unit, where pattern and
/// instantiation findings of the same call are merged.
struct Finding {
  SourceLocation Loc;
  std::string Message;
  std::optional<FixItHint> Fix;
  std::optional<BlockingPath> Path;
  const FunctionDecl *Callee = nullptr;
  InstantiationNote Instantiation;
};

} // namespace

/// Per-translation-unit state: findings and the memoized call summaries.
struct BlockingCallCheck::Analysis {
  ASTContext *Ctx = nullptr;
  const LibraryBoundary *Boundary = nullptr;
  llvm::DenseSet<const FunctionDecl *> SeenCoroutines;
  FindingsByLocation<Finding> Findings;
  llvm::DenseMap<const FunctionDecl *, FunctionSummary> Summaries;
  llvm::DenseMap<const FunctionDecl *, std::optional<BlockingPath>> Paths;
  /// Every user function defined here, for the facts file.
  std::vector<const FunctionDecl *> FactFunctions;
  llvm::DenseSet<const FunctionDecl *> SeenFunctions;
};

namespace {

/// Collects, in source order, the blocking calls of a body and the calls the
/// transitive analysis may follow.
class CallCollector : public EvaluatedCodeVisitor<CallCollector> {
public:
  struct Visit {
    const Expr *Call;
    std::optional<BlockingCall> Blocking;
    const FunctionDecl *Followable;
    /// With WantDeclared: a callee the analysis would follow, were it
    /// defined here; `coroscope link` follows it into its TU.
    const FunctionDecl *Declared = nullptr;
  };

  CallCollector(const ASTContext &Ctx, const FunctionDecl &Function,
                const BlockingCatalogue &Catalogue,
                const LibraryBoundary &Boundary, bool FollowCalls,
                bool WantDeclared = false)
      : EvaluatedCodeVisitor(Ctx), Function(Function), Catalogue(Catalogue),
        Boundary(Boundary), FollowCalls(FollowCalls),
        WantDeclared(WantDeclared) {}

  bool VisitCallExpr(CallExpr *Call) {
    record(*Call);
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    record(*Construct);
    return true;
  }

  std::vector<Visit> Visits;

private:
  void record(const Expr &E) {
    std::optional<BlockingCall> Blocking = Catalogue.classify(E, Ctx);
    if (Blocking && Blocking->Family == BlockingFamily::IO)
      if (const auto *Call = dyn_cast<CallExpr>(&E))
        if (isNonBlockingDescriptorCall(*Call, Function, Ctx))
          return;
    const FunctionDecl *Declared = nullptr;
    const FunctionDecl *Followable =
        Blocking || !FollowCalls ? nullptr : followable(E, Declared);
    if (Blocking || Followable || Declared)
      Visits.push_back({&E, std::move(Blocking), Followable, Declared});
  }

  /// The definition a call runs, when the analysis can see and may follow it:
  /// defined in this TU outside system headers, not a coroutine (calling one
  /// only creates it), not reached through a virtual call or a pointer.
  /// With WantDeclared, a callee that passes the same tests but is only
  /// declared here goes to \p Declared.
  const FunctionDecl *followable(const Expr &E,
                                 const FunctionDecl *&Declared) const {
    const FunctionDecl *Callee = nullptr;
    if (const auto *Call = dyn_cast<CallExpr>(&E)) {
      Callee = Call->getDirectCallee();
      const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Callee);
      if (Method && Method->isVirtual() && !Method->hasAttr<FinalAttr>() &&
          !Method->getParent()->hasAttr<FinalAttr>()) {
        const auto *Member =
            dyn_cast<MemberExpr>(Call->getCallee()->IgnoreParenImpCasts());
        if (!Member || !Member->hasQualifier())
          return nullptr;
      }
    } else if (const auto *Construct = dyn_cast<CXXConstructExpr>(&E)) {
      Callee = Construct->getConstructor();
    }
    if (!Callee)
      return nullptr;
    const FunctionDecl *Definition = Callee->getDefinition();
    const FunctionDecl &Known = Definition ? *Definition : *Callee;
    // A library's code counts only through the catalogue.
    if (Known.isDefaulted() || Boundary.isLibraryCode(Known) ||
        Catalogue.isAllowed(Known))
      return nullptr;
    if (!Definition) {
      if (WantDeclared)
        Declared = Callee;
      return nullptr;
    }
    if (!Definition->hasBody() || isCoroutine(*Definition))
      return nullptr;
    return Definition;
  }

  const FunctionDecl &Function;
  const BlockingCatalogue &Catalogue;
  const LibraryBoundary &Boundary;
  bool FollowCalls;
  bool WantDeclared;
};

std::vector<CallCollector::Visit>
collectCalls(const FunctionDecl &FD, const ASTContext &Ctx,
             const BlockingCatalogue &Catalogue,
             const LibraryBoundary &Boundary, bool FollowCalls,
             bool WantDeclared = false) {
  CallCollector Collector(Ctx, FD, Catalogue, Boundary, FollowCalls,
                          WantDeclared);
  if (const Stmt *Body = userBody(FD))
    Collector.TraverseStmt(const_cast<Stmt *>(Body));
  // Constructor initializers run before the body.
  if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(&FD)) {
    CallCollector InitCollector(Ctx, FD, Catalogue, Boundary, FollowCalls,
                                WantDeclared);
    for (const CXXCtorInitializer *Init : Ctor->inits())
      if (Init->isWritten())
        InitCollector.TraverseStmt(Init->getInit());
    InitCollector.Visits.insert(InitCollector.Visits.end(),
                                Collector.Visits.begin(),
                                Collector.Visits.end());
    return std::move(InitCollector.Visits);
  }
  return std::move(Collector.Visits);
}

const FunctionSummary &summarize(BlockingCallCheck::Analysis &State,
                                 const FunctionDecl &FD,
                                 const BlockingCatalogue &Catalogue) {
  auto [It, Inserted] = State.Summaries.try_emplace(&FD);
  if (!Inserted)
    return It->second;
  FunctionSummary Summary;
  for (CallCollector::Visit &V :
       collectCalls(FD, *State.Ctx, Catalogue, *State.Boundary,
                    /*FollowCalls=*/true)) {
    if (V.Blocking) {
      // A lock a called function takes is its short critical section (a
      // pool's queue lock in post()); only the coroutine's own locking counts.
      if (!Summary.FirstBlock && V.Blocking->Family != BlockingFamily::Locking)
        Summary.FirstBlock = DirectBlock{V.Call->getBeginLoc(), *V.Blocking};
    } else {
      Summary.Edges.push_back({V.Call->getBeginLoc(), V.Followable});
    }
  }
  // Recursion into summarize() above may have grown the map; look up again.
  return State.Summaries[&FD] = std::move(Summary);
}

/// The shortest chain of calls from \p Start to a blocking call, if any.
/// Breadth-first, so recursion and shared callees are safe and cheap.
const std::optional<BlockingPath> &
findBlockingPath(BlockingCallCheck::Analysis &State, const FunctionDecl &Start,
                 const BlockingCatalogue &Catalogue) {
  if (auto It = State.Paths.find(&Start); It != State.Paths.end())
    return It->second;

  struct Parent {
    const FunctionDecl *Caller;
    SourceLocation Loc;
  };
  llvm::DenseMap<const FunctionDecl *, Parent> Parents;
  std::deque<const FunctionDecl *> Queue{&Start};
  Parents[&Start] = {nullptr, SourceLocation()};
  std::optional<BlockingPath> Result;
  while (!Queue.empty()) {
    const FunctionDecl *Current = Queue.front();
    Queue.pop_front();
    const FunctionSummary &Summary = summarize(State, *Current, Catalogue);
    if (Summary.FirstBlock) {
      BlockingPath Path{{}, Current, *Summary.FirstBlock};
      for (const FunctionDecl *F = Current; F != &Start;) {
        const Parent &P = Parents[F];
        Path.Steps.push_back({P.Loc, P.Caller, F});
        F = P.Caller;
      }
      std::reverse(Path.Steps.begin(), Path.Steps.end());
      Result = std::move(Path);
      break;
    }
    for (const CallEdge &Edge : Summary.Edges) {
      if (Parents.count(Edge.Callee))
        continue;
      Parents[Edge.Callee] = {Current, Edge.Loc};
      Queue.push_back(Edge.Callee);
    }
  }
  return State.Paths[&Start] = std::move(Result);
}

std::optional<FixItHint>
replacementFix(const Expr &E, const BlockingCall &Call,
               const std::vector<std::pair<NameList, std::string>> &Rules) {
  if (!Call.IsFreeFunctionCall || Rules.empty())
    return std::nullopt;
  const auto *CE = dyn_cast<CallExpr>(&E);
  if (!CE || CE->getBeginLoc().isMacroID() ||
      CE->getCallee()->getEndLoc().isMacroID())
    return std::nullopt;
  for (const auto &[Names, Replacement] : Rules)
    if (Names.findMatch(Call.Names))
      return FixItHint::CreateReplacement(
          CharSourceRange::getTokenRange(CE->getBeginLoc(),
                                         CE->getCallee()->getEndLoc()),
          "co_await " + Replacement);
  return std::nullopt;
}

std::string directMessage(const BlockingCall &Call, StringRef Coroutine) {
  return (Call.Subject + " blocks the thread while " + Coroutine + " runs; " +
          familyPhrase(Call.Family) + " stalls every coroutine on this thread")
      .str();
}

/// What a call passes for the callee's bool parameters, where it is a
/// constant or one of \p Caller's parameters: what decides whether a callee
/// that waits only for one value of a parameter blocks here.
std::vector<lockgraph::ArgumentFact> boolArguments(const Expr &E,
                                                   const FunctionDecl &Callee,
                                                   const FunctionDecl &Caller,
                                                   const ASTContext &Ctx) {
  llvm::ArrayRef<const Expr *> Args;
  if (const auto *Call = dyn_cast<CallExpr>(&E)) {
    if (isa<CXXOperatorCallExpr>(Call))
      return {}; // its argument 0 may be the object
    Args = llvm::ArrayRef(Call->getArgs(), Call->getNumArgs());
  } else if (const auto *Construct = dyn_cast<CXXConstructExpr>(&E)) {
    Args = llvm::ArrayRef(Construct->getArgs(), Construct->getNumArgs());
  }
  std::vector<lockgraph::ArgumentFact> Result;
  for (unsigned I = 0; I < Args.size() && I < Callee.getNumParams() &&
                       Result.size() < lockgraph::MaxArgumentsPerCall;
       ++I) {
    if (!Callee.getParamDecl(I)->getType()->isBooleanType() ||
        Args[I]->isValueDependent())
      continue;
    lockgraph::ArgumentFact Argument;
    Argument.Index = I;
    bool Value = false;
    if (Args[I]->EvaluateAsBooleanCondition(Value, Ctx))
      Argument.Value = Value;
    else if (const auto *Ref =
                 dyn_cast<DeclRefExpr>(Args[I]->IgnoreParenImpCasts()))
      if (const auto *Param = dyn_cast<ParmVarDecl>(Ref->getDecl());
          Param && Param->getDeclContext() == &Caller)
        Argument.Parameter = Param->getFunctionScopeIndex();
    if (Argument.Value || Argument.Parameter)
      Result.push_back(Argument);
  }
  return Result;
}

/// What `coroscope link` needs of \p FD: whether it blocks, and which user
/// functions it calls, defined here or not (none without \p FollowCalls).
/// Callees defined here are added to \p Reached.
lockgraph::FunctionFact
functionFacts(const FunctionDecl &FD, const ASTContext &Ctx,
              const FactsPlaces &Places, const BlockingCatalogue &Catalogue,
              const LibraryBoundary &Boundary, bool FollowCalls,
              std::vector<const FunctionDecl *> &Reached) {
  lockgraph::FunctionFact Fact;
  Fact.Usr = functionUsr(FD, Places);
  Fact.Name = calleeName(FD);
  Fact.At = Places.siteOf(FD.getLocation());
  Fact.Hash = definitionHash(FD, Fact.Usr, Ctx);
  Fact.Coroutine = isCoroutine(FD);
  for (const CallCollector::Visit &V :
       collectCalls(FD, Ctx, Catalogue, Boundary, FollowCalls,
                    /*WantDeclared=*/FollowCalls)) {
    if (V.Blocking) {
      // As in summarize(): a callee's own short lock does not count. A call
      // that waits only for one value of a parameter stands unless the
      // function also blocks whatever its arguments.
      if (V.Blocking->Family == BlockingFamily::Locking ||
          (Fact.Blocks && !Fact.Blocks->WhenParameter))
        continue;
      std::optional<std::pair<unsigned, bool>> When;
      if (const auto *Call = dyn_cast<CallExpr>(V.Call))
        When = waitsOnlyWhen(*Call, FD, Ctx);
      if (Fact.Blocks && When)
        continue;
      Fact.Blocks.emplace();
      Fact.Blocks->Subject = V.Blocking->Subject;
      Fact.Blocks->Reason = familyPhrase(V.Blocking->Family).str();
      Fact.Blocks->At = Places.siteOf(V.Call->getBeginLoc());
      if (When) {
        Fact.Blocks->WhenParameter = When->first;
        Fact.Blocks->WhenValue = When->second;
      }
      continue;
    }
    const FunctionDecl *Callee = V.Followable ? V.Followable : V.Declared;
    std::string Usr = functionUsr(*Callee, Places);
    if (Usr.empty() || Fact.Calls.size() >= lockgraph::MaxCallsPerFunction)
      continue;
    Fact.Calls.push_back({std::move(Usr),
                          calleeName(*Callee),
                          Places.siteOf(V.Call->getBeginLoc()),
                          boolArguments(*V.Call, *Callee, FD, Ctx),
                          false,
                          {}});
    if (V.Followable)
      Reached.push_back(V.Followable);
  }
  return Fact;
}

} // namespace

BlockingCallCheck::BlockingCallCheck(StringRef Name,
                                     clang::tidy::ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      BlockingFunctions(Options.get("BlockingFunctions", "")),
      AllowedFunctions(Options.get("AllowedFunctions", "")),
      Replacements(Options.get("Replacements", "")),
      LockingIsBlocking(Options.get("LockingIsBlocking", false)),
      FollowCalls(Options.get("FollowCalls", true)),
      FactsDirectory(Options.get("FactsDirectory", "")),
      FactsRoot(Options.get("FactsRoot", "")),
      LockAcrossSuspendEnabled(
          Context->isCheckEnabled("coro-lock-across-suspend")),
      Library(*this, Name, Options),
      Catalogue(BlockingFunctions, AllowedFunctions, LockingIsBlocking),
      State(std::make_unique<Analysis>()) {
  reportInvalidNameLists(*this, Name,
                         {{"BlockingFunctions", &Catalogue.extraBlocking()},
                          {"AllowedFunctions", &Catalogue.allowed()}});
  llvm::SmallVector<StringRef, 4> Pairs;
  StringRef(Replacements).split(Pairs, ';', -1, /*KeepEmpty=*/false);
  for (StringRef Pair : Pairs) {
    auto [From, To] = Pair.split('=');
    From = From.trim();
    To = To.trim();
    if (From.empty() || To.empty()) {
      configurationDiag("ignoring entry '%0' of option 'Replacements' of "
                        "'%1': expected 'name=replacement'",
                        DiagnosticIDs::Error)
          << Pair.trim() << Name;
      continue;
    }
    ReplacementRules.emplace_back(NameList(From), To.str());
  }
}

BlockingCallCheck::~BlockingCallCheck() = default;

void BlockingCallCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Library.store(Options, Opts);
  Options.store(Opts, "BlockingFunctions", BlockingFunctions);
  Options.store(Opts, "AllowedFunctions", AllowedFunctions);
  Options.store(Opts, "Replacements", Replacements);
  Options.store(Opts, "LockingIsBlocking", LockingIsBlocking);
  Options.store(Opts, "FollowCalls", FollowCalls);
  Options.store(Opts, "FactsDirectory", FactsDirectory);
  Options.store(Opts, "FactsRoot", FactsRoot);
}

void BlockingCallCheck::registerMatchers(MatchFinder *Finder) {
  // The facts summarise every function; the diagnostics need coroutines.
  addFunctionMatchers(*Finder, this,
                      /*OnlyCoroutines=*/FactsDirectory.empty());
}

void BlockingCallCheck::check(const MatchFinder::MatchResult &Result) {
  State->Ctx = Result.Context;
  State->Boundary = &Library.Boundary;
  for (const FunctionDecl *FD : matchedFunctions(Result, Library.Boundary)) {
    if (!FactsDirectory.empty() && FD->hasBody() && !FD->isDependentContext() &&
        State->SeenFunctions.insert(FD).second)
      State->FactFunctions.push_back(FD);
    if (isCoroutine(*FD) && State->SeenCoroutines.insert(FD).second)
      analyzeCoroutine(*FD, *Result.Context);
  }
}

void BlockingCallCheck::writeFacts() {
  const ASTContext &Ctx = *State->Ctx;
  FactsPlaces Places(Ctx, FactsRoot);
  lockgraph::Facts Facts;
  Facts.Check = "coro-blocking-call";
  Facts.TranslationUnit = Places.translationUnit();
  Facts.Inputs = Places.inputs();
  std::vector<const FunctionDecl *> Worklist = State->FactFunctions;
  while (!Worklist.empty()) {
    const FunctionDecl *FD = Worklist.back();
    Worklist.pop_back();
    std::vector<const FunctionDecl *> Reached;
    lockgraph::FunctionFact Fact = functionFacts(
        *FD, Ctx, Places, Catalogue, Library.Boundary, FollowCalls, Reached);
    for (const FunctionDecl *Callee : Reached)
      if (State->SeenFunctions.insert(Callee).second)
        Worklist.push_back(Callee);
    if (!Fact.Usr.empty() &&
        (Fact.Coroutine || Fact.Blocks || !Fact.Calls.empty()))
      Facts.Functions.push_back(std::move(Fact));
  }
  std::string Error = Places.write(FactsDirectory, ".blockfacts.json",
                                   lockgraph::writeFacts(Facts));
  if (!Error.empty())
    configurationDiag("cannot write blocking facts to %0", DiagnosticIDs::Error)
        << Error;
}

void BlockingCallCheck::analyzeCoroutine(const FunctionDecl &Coroutine,
                                         ASTContext &Ctx) {
  const bool Instantiated = isInstantiated(Coroutine);
  const std::string CoroutineName = describeCoroutine(Coroutine);
  // A lock held across a suspension is coro-lock-across-suspend's finding;
  // it is not reported a second time as a blocking acquisition.
  llvm::DenseSet<const Expr *> HeldAcrossSuspension;
  if (LockingIsBlocking && LockAcrossSuspendEnabled &&
      !Coroutine.isDependentContext()) {
    NameList None, Async(DefaultAsyncLockTypes), Allowed("std::suspend_never");
    for (const SuspensionWithLocks &S :
         suspensionsHoldingLocks(Coroutine, Ctx, {None, Async, Allowed}))
      for (const HeldLock &Lock : S.Locks)
        HeldAcrossSuspension.insert(Lock.Acquisition);
  }
  for (CallCollector::Visit &V :
       collectCalls(Coroutine, Ctx, Catalogue, Library.Boundary, FollowCalls)) {
    Finding F;
    F.Loc = V.Call->getBeginLoc();
    if (V.Blocking) {
      if (HeldAcrossSuspension.count(V.Call))
        continue;
      F.Message = directMessage(*V.Blocking, CoroutineName);
      if (!Instantiated)
        F.Fix = replacementFix(*V.Call, *V.Blocking, ReplacementRules);
    } else {
      const std::optional<BlockingPath> &Path =
          findBlockingPath(*State, *V.Followable, Catalogue);
      if (!Path)
        continue;
      F.Path = *Path;
      F.Callee = V.Followable;
      F.Message =
          ("'" + calleeName(*V.Followable) + "' blocks the thread while " +
           CoroutineName + " runs; it reaches " + Path->Leaf.Call.Subject +
           " (" + familyPhrase(Path->Leaf.Call.Family) + ")")
              .str();
    }
    State->Findings.add(Coroutine, std::move(F));
  }
}

void BlockingCallCheck::onEndOfTranslationUnit() {
  if (!State->Ctx) {
    State = std::make_unique<Analysis>();
    return;
  }
  const SourceManager &SM = State->Ctx->getSourceManager();
  for (const Finding *F : State->Findings.ordered(SM)) {
    {
      auto Diag = diag(F->Loc, "%0") << F->Message;
      if (F->Fix)
        Diag << *F->Fix;
    }
    if (!F->Instantiation.Name.empty())
      diag(F->Instantiation.Loc,
           "only the instantiation '%0' blocks; it is instantiated here",
           DiagnosticIDs::Note)
          << F->Instantiation.Name;
    if (!F->Path)
      continue;
    for (const BlockingPath::Step &Step : F->Path->Steps)
      diag(Step.Loc, "'%0' calls '%1' here", DiagnosticIDs::Note)
          << calleeName(*Step.Caller) << calleeName(*Step.Callee);
    diag(F->Path->Leaf.Loc, "%0 blocks here, in '%1'", DiagnosticIDs::Note)
        << F->Path->Leaf.Call.Subject << calleeName(*F->Path->LeafFunction);
  }
  if (!FactsDirectory.empty())
    writeFacts();
  State = std::make_unique<Analysis>();
}

} // namespace coroscope
