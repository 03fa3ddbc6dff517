//===--- LockHooksPass.cpp - the IR engine's lock hooks -------------------===//

#include "LockHooksPass.h"
#include "InstrumentedCoroutine.h"

#include "coroscope/ir_abi.h"

#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

#include <climits>

using namespace llvm;

namespace coroscope::rewriter {
namespace {

/// The Itanium name of a constructor up to its `C1`/`C2`: the destructors
/// of the same class are that prefix and `D1Ev`/`D2Ev`.
std::optional<std::string> constructorPrefix(StringRef Name) {
  for (StringRef Marker : {"C1E", "C2E"}) {
    size_t At = Name.rfind(Marker);
    if (At != StringRef::npos && Name.starts_with("_Z"))
      return Name.take_front(At).str();
  }
  return std::nullopt;
}

struct Planned {
  CallBase *Call; // the acquisition: a guard's construction, a lock call
  const LockSiteInfo *Site;
  Value *Mutex;
  SmallVector<CallBase *, 2> Releases; // a guard's destructions
  CallBase *WaitBefore = nullptr;      // an async guard's awaited call
};

bool isDestructorOf(const CallBase &Call, const Value *Object) {
  StringRef Name = Call.getCalledFunction()->getName();
  return Name.starts_with("_Z") &&
         (Name.ends_with("D1Ev") || Name.ends_with("D2Ev")) &&
         Call.arg_size() > 0 &&
         Call.getArgOperand(0)->stripPointerCasts() == Object;
}

/// The object a call returns through its `sret` argument, if any.
Value *returnedInto(const CallBase &Call) {
  for (unsigned I = 0; I < Call.arg_size(); ++I)
    if (Call.paramHasAttr(I, Attribute::StructRet))
      return Call.getArgOperand(I)->stripPointerCasts();
  return nullptr;
}

class Instrumenter {
public:
  Instrumenter(Function &F, const LockSiteTable &Table)
      : F(F), M(*F.getParent()), Ctx(M.getContext()), Table(Table) {}

  /// What to instrument, decided before anything changes.
  void plan(DominatorTree &DT);
  /// An async guard, `auto g = co_await m.scoped_lock_async();`: the wait
  /// begins before the awaited call (whose object is the mutex), the hold
  /// after await_resume makes the guard, until the guard's destruction.
  void planAsyncGuards(DominatorTree &DT, ArrayRef<CallBase *> Calls);
  unsigned apply();

private:
  Constant *siteOf(const LockSiteInfo &Site);
  Constant *string(StringRef Text);
  Instruction *after(CallBase &Call);

  Function &F;
  Module &M;
  LLVMContext &Ctx;
  const LockSiteTable &Table;
  std::vector<Planned> Plans;
  std::map<const LockSiteInfo *, Constant *> Sites;
  StringMap<Constant *> Strings;
};

void Instrumenter::plan(DominatorTree &DT) {
  std::vector<CallBase *> Calls;
  for (Instruction &I : instructions(F))
    if (auto *Call = dyn_cast<CallBase>(&I))
      if (Call->getCalledFunction() && !isa<IntrinsicInst>(Call))
        Calls.push_back(Call);
  for (CallBase *Call : Calls) {
    const DILocation *Loc = Call->getDebugLoc().get();
    if (!Loc || Call->arg_size() == 0)
      continue;
    const LockSiteInfo *Site =
        Table.find(Loc->getFilename(), Loc->getLine(), Loc->getColumn());
    if (!Site)
      continue;
    StringRef Callee = Call->getCalledFunction()->getName();
    if (Site->Kind == COROSCOPE_IR_LOCK_KIND_ASYNC)
      continue; // planAsyncGuards
    if (Site->Operation != LockOperation::Guard) {
      // The lock call itself, not a call that computes its mutex: pthread's
      // by its name, a method by its Itanium `<length><name>E`.
      bool Pthread = Callee == Site->Callee;
      bool Member = Callee.contains(
          (Twine(Site->Callee.size()) + Site->Callee + "E").str());
      if (Site->Callee.empty() || (!Pthread && !Member) ||
          (Site->Operation == LockOperation::TryLock &&
           !Call->getType()->isIntegerTy()))
        continue;
      Plans.push_back({Call, Site, Call->getArgOperand(0), {}});
      continue;
    }
    std::optional<std::string> Prefix = constructorPrefix(Callee);
    if (!Prefix || Call->arg_size() < 2)
      continue;
    Value *Guard = Call->getArgOperand(0)->stripPointerCasts();
    Value *Mutex = Call->getArgOperand(1);
    Planned Plan{Call, Site, Mutex, {}};
    for (CallBase *Other : Calls) {
      StringRef Name = Other->getCalledFunction()->getName();
      if (Other == Call || Other->arg_size() == 0 ||
          Other->getArgOperand(0)->stripPointerCasts() != Guard ||
          !Name.starts_with(*Prefix) ||
          (Name.drop_front(Prefix->size()) != "D1Ev" &&
           Name.drop_front(Prefix->size()) != "D2Ev"))
        continue;
      // The mutex must be there where the guard dies.
      auto *Defined = dyn_cast<Instruction>(Mutex);
      if (Defined && !DT.dominates(Defined, Other))
        continue;
      Plan.Releases.push_back(Other);
    }
    // A guard whose release cannot be found would look held forever.
    if (!Plan.Releases.empty())
      Plans.push_back(std::move(Plan));
  }
  planAsyncGuards(DT, Calls);
}

void Instrumenter::planAsyncGuards(DominatorTree &DT,
                                   ArrayRef<CallBase *> Calls) {
  std::map<const LockSiteInfo *, CallBase *> Awaited;
  std::vector<std::pair<CallBase *, const LockSiteInfo *>> Resumes;
  for (CallBase *Call : Calls) {
    const DILocation *Loc = Call->getDebugLoc().get();
    if (!Loc)
      continue;
    const LockSiteInfo *Site =
        Table.find(Loc->getFilename(), Loc->getLine(), Loc->getColumn());
    if (!Site || Site->Kind != COROSCOPE_IR_LOCK_KIND_ASYNC)
      continue;
    StringRef Callee = Call->getCalledFunction()->getName();
    if (Callee.contains(
            (Twine(Site->Callee.size()) + Site->Callee + "E").str())) {
      // Two calls for one site: not the shape this knows.
      auto [At, New] = Awaited.try_emplace(Site, Call);
      if (!New)
        At->second = nullptr;
    } else if (Callee.contains("12await_resumeE") && returnedInto(*Call)) {
      Resumes.push_back({Call, Site});
    }
  }
  for (auto [Resume, Site] : Resumes) {
    auto Found = Awaited.find(Site);
    CallBase *Operand = Found == Awaited.end() ? nullptr : Found->second;
    if (!Operand || !DT.dominates(Operand, Resume))
      continue;
    // The mutex is the awaited call's object: its first argument, after
    // the awaiter's own storage when that is returned through memory.
    unsigned Object = returnedInto(*Operand) ? 1 : 0;
    if (Operand->arg_size() <= Object)
      continue;
    Value *Mutex = Operand->getArgOperand(Object);
    auto *Defined = dyn_cast<Instruction>(Mutex);
    Value *Guard = returnedInto(*Resume);
    Planned Plan{Resume, Site, Mutex, {}, Operand};
    for (CallBase *Other : Calls)
      if (isDestructorOf(*Other, Guard) &&
          (!Defined || DT.dominates(Defined, Other)))
        Plan.Releases.push_back(Other);
    if (!Plan.Releases.empty())
      Plans.push_back(std::move(Plan));
  }
}

Constant *Instrumenter::string(StringRef Text) {
  return privateString(M, Strings, Text);
}

Constant *Instrumenter::siteOf(const LockSiteInfo &Site) {
  Constant *&Found = Sites[&Site];
  if (Found)
    return Found;
  Type *Ptr = PointerType::getUnqual(Ctx);
  Type *I8 = Type::getInt8Ty(Ctx), *I32 = Type::getInt32Ty(Ctx);
  // coroscope::lock_site (coroscope/ir_abi.h): lock_class, function, file,
  // line, column, kind.
  auto *Type = StructType::get(Ctx, {Ptr, Ptr, Ptr, I32, I32, I8});
  auto *Value = ConstantStruct::get(
      Type,
      {string(Site.LockClass), string(Site.Function), string(Site.File),
       ConstantInt::get(I32, Site.Line), ConstantInt::get(I32, Site.Column),
       ConstantInt::get(I8, Site.Kind)});
  auto *Global = new GlobalVariable(M, Type, /*isConstant=*/true,
                                    GlobalValue::PrivateLinkage, Value,
                                    ".coroscope.lock_site");
  Global->setAlignment(Align(8));
  Found = Global;
  return Found;
}

/// Where the code after \p Call begins: after it, or at the start of an
/// invoke's normal destination, split off when others reach it too.
Instruction *Instrumenter::after(CallBase &Call) {
  if (auto *Invoke = dyn_cast<InvokeInst>(&Call)) {
    BasicBlock *Normal = Invoke->getNormalDest();
    if (!Normal->getSinglePredecessor())
      Normal = SplitEdge(Invoke->getParent(), Normal);
    return &*Normal->getFirstInsertionPt();
  }
  return Call.getNextNode();
}

unsigned Instrumenter::apply() {
  if (Plans.empty())
    return 0;
  Type *I64 = Type::getInt64Ty(Ctx);
  IRBuilder<> Entry(&*F.getEntryBlock().getFirstInsertionPt());
  for (Planned &Plan : Plans) {
    Constant *Site = siteOf(*Plan.Site);
    if (Plan.Site->Operation == LockOperation::Unlock) {
      callIfLinked(M, COROSCOPE_IR_LOCK_RELEASED, {Plan.Mutex, Site}, Plan.Call,
                   /*WarnIfMissing=*/false);
      continue;
    }
    // The wait's token: INT64_MIN until lock_waiting writes one.
    AllocaInst *Token =
        Entry.CreateAlloca(I64, nullptr, "coroscope.lock_token");
    Instruction *Done = after(*Plan.Call);
    CallBase *WaitAt = Plan.WaitBefore ? Plan.WaitBefore : Plan.Call;
    IRBuilder<> Before(WaitAt);
    Before.CreateStore(ConstantInt::get(I64, INT64_MIN), Token);
    if (Plan.Site->Operation == LockOperation::TryLock) {
      // Acquired only if it succeeded: a true bool, or pthread's 0.
      Value *Result = Plan.Call;
      IRBuilder<> Then(Done);
      Value *Succeeded =
          Result->getType()->isIntegerTy(1) ? Result
          : StringRef(Plan.Site->Callee).starts_with("pthread_")
              ? Then.CreateIsNull(Result)
              : Then.CreateIsNotNull(Result);
      callIfLinked(M, COROSCOPE_IR_LOCK_ACQUIRED, {Plan.Mutex, Site, Token},
                   SplitBlockAndInsertIfThen(Succeeded, Done,
                                             /*Unreachable=*/false),
                   /*WarnIfMissing=*/false);
      continue;
    }
    callIfLinked(M, COROSCOPE_IR_LOCK_WAITING, {Plan.Mutex, Site, Token},
                 WaitAt, /*WarnIfMissing=*/false);
    callIfLinked(M, COROSCOPE_IR_LOCK_ACQUIRED, {Plan.Mutex, Site, Token}, Done,
                 /*WarnIfMissing=*/false);
    for (CallBase *Release : Plan.Releases)
      callIfLinked(M, COROSCOPE_IR_LOCK_RELEASED, {Plan.Mutex, Site}, Release,
                   /*WarnIfMissing=*/false);
  }
  return Plans.size();
}

} // namespace

PreservedAnalyses LockHooksPass::run(Function &F, FunctionAnalysisManager &AM) {
  if (!Table || Table->empty() || F.isDeclaration())
    return PreservedAnalyses::all();
  Instrumenter Marker(F, *Table);
  Marker.plan(AM.getResult<DominatorTreeAnalysis>(F));
  unsigned Marked = Marker.apply();
  if (Marked == 0)
    return PreservedAnalyses::all();
  if (Verbose)
    errs() << "coroscope: " << F.getName() << ": " << Marked
           << " lock acquisition" << (Marked == 1 ? "" : "s")
           << " and releases marked\n";
  return PreservedAnalyses::none();
}

} // namespace coroscope::rewriter
