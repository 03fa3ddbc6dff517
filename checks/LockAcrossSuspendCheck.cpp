//===--- LockAcrossSuspendCheck.cpp - coro-lock-across-suspend ------------===//

#include "LockAcrossSuspendCheck.h"
#include "CoroutineKnowledge.h"
#include "CoroutineMatchers.h"
#include "FindingsByLocation.h"
#include "HeldLocks.h"
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

struct Finding {
  SourceLocation Loc;
  bool IsYield = false;
  std::string Coroutine;
  std::vector<HeldLock> Locks;
  InstantiationNote Instantiation;
};

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
      Library(*this, Name, Options), LockTypes(LockTypesOption),
      AsyncLockTypes(AsyncLockTypesOption),
      AllowedAwaitables(AllowedAwaitablesOption),
      State(std::make_unique<Analysis>()) {
  reportInvalidNameLists(*this, Name,
                         {{"LockTypes", &LockTypes},
                          {"AsyncLockTypes", &AsyncLockTypes},
                          {"AllowedAwaitables", &AllowedAwaitables}});
}

LockAcrossSuspendCheck::~LockAcrossSuspendCheck() = default;

void LockAcrossSuspendCheck::storeOptions(
    clang::tidy::ClangTidyOptions::OptionMap &Opts) {
  Library.store(Options, Opts);
  Options.store(Opts, "LockTypes", LockTypesOption);
  Options.store(Opts, "AsyncLockTypes", AsyncLockTypesOption);
  Options.store(Opts, "AllowedAwaitables", AllowedAwaitablesOption);
}

void LockAcrossSuspendCheck::registerMatchers(MatchFinder *Finder) {
  addFunctionMatchers(*Finder, this, /*OnlyCoroutines=*/true);
}

void LockAcrossSuspendCheck::check(const MatchFinder::MatchResult &Result) {
  State->Ctx = Result.Context;
  for (const FunctionDecl *FD : matchedFunctions(Result, Library.Boundary))
    // The CFG needs concrete types: templates are analysed through their
    // instantiations.
    if (isCoroutine(*FD) && !FD->isDependentContext() &&
        State->Seen.insert(FD).second)
      analyzeCoroutine(*FD, *Result.Context);
}

void LockAcrossSuspendCheck::analyzeCoroutine(const FunctionDecl &Coroutine,
                                              ASTContext &Ctx) {
  const std::string Name = describeCoroutine(Coroutine);
  for (SuspensionWithLocks &S : suspensionsHoldingLocks(
           Coroutine, Ctx, {LockTypes, AsyncLockTypes, AllowedAwaitables})) {
    Finding F;
    F.Loc = S.At->getBeginLoc();
    F.IsYield = S.IsYield;
    F.Coroutine = Name;
    F.Locks = std::move(S.Locks);
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
