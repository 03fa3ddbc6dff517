//===--- SuspensionHooksPass.cpp - the IR engine --------------------------===//

#include "SuspensionHooksPass.h"
#include "InstrumentedCoroutine.h"
#include "ReadySitesRegistration.h"

#include "coroscope/ir_abi.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/EHPersonalities.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include <optional>

using namespace llvm;

namespace coroscope::rewriter {
namespace {

enum class SuspendKind { Initial, Await, Yield, Final };

/// One llvm.coro.suspend and the blocks clang built around it: the
/// await_ready branch leads to Ready or to the block of Save; the switch on
/// the suspension's result resumes at Ready (0) or destroys (1).
struct Suspension {
  IntrinsicInst *Suspend = nullptr;
  Instruction *Save = nullptr;
  BasicBlock *ReadyBranch = nullptr;
  BasicBlock *Ready = nullptr;
  SwitchInst *Switch = nullptr;
  BasicBlock *Destroy = nullptr;
  SuspendKind Kind = SuspendKind::Await;
};

bool isAwaitSuspend(Intrinsic::ID ID) {
  return ID == Intrinsic::coro_await_suspend_void ||
         ID == Intrinsic::coro_await_suspend_bool ||
         ID == Intrinsic::coro_await_suspend_handle;
}

/// The kind clang gave the suspension, from the name of the await_suspend
/// wrapper it passes llvm.coro.await.suspend.*: "f.__await_suspend_wrapper__
/// await2". Searched back from the suspension, through an invoke's edge.
std::optional<SuspendKind> kindOf(const IntrinsicInst &Suspend) {
  const BasicBlock *Block = Suspend.getParent();
  const Instruction *I = Suspend.getPrevNode();
  for (unsigned Steps = 0; Steps < 256; ++Steps) {
    if (!I) {
      Block = Block->getSinglePredecessor();
      if (!Block)
        return std::nullopt;
      I = Block->getTerminator();
      continue;
    }
    // llvm.coro.await.suspend.* is invoked where await_suspend may throw.
    const auto *Call = dyn_cast<CallBase>(I);
    const Function *Callee = Call ? Call->getCalledFunction() : nullptr;
    if (Callee) {
      if (Callee->getIntrinsicID() == Intrinsic::coro_save)
        return std::nullopt;
      if (isAwaitSuspend(Callee->getIntrinsicID())) {
        const auto *Wrapper =
            dyn_cast<Function>(Call->getArgOperand(2)->stripPointerCasts());
        if (!Wrapper)
          return std::nullopt;
        StringRef Name = Wrapper->getName();
        constexpr StringLiteral Marker = "__await_suspend_wrapper__";
        size_t At = Name.rfind(Marker);
        if (At == StringRef::npos)
          return std::nullopt;
        StringRef Tag = Name.substr(At + Marker.size()).rtrim("0123456789");
        if (Tag == "init")
          return SuspendKind::Initial;
        if (Tag == "final")
          return SuspendKind::Final;
        if (Tag == "yield")
          return SuspendKind::Yield;
        if (Tag == "await")
          return SuspendKind::Await;
        return std::nullopt;
      }
    }
    I = I->getPrevNode();
  }
  return std::nullopt;
}

/// await_ready, await_suspend or await_resume: clang gives them the
/// location of the call awaited at once, which they do not create.
bool isAwaiterCall(const CallBase &Call) {
  const Function *Callee = Call.getCalledFunction();
  if (!Callee)
    return false;
  StringRef Name = Callee->getName();
  return Name.contains("11await_ready") || Name.contains("12await_resume") ||
         Name.contains("13await_suspend");
}

std::optional<Suspension> shapeOf(IntrinsicInst &Suspend) {
  Suspension S;
  S.Suspend = &Suspend;
  auto *Save = dyn_cast<IntrinsicInst>(Suspend.getArgOperand(0));
  if (!Save || Save->getIntrinsicID() != Intrinsic::coro_save)
    return std::nullopt;
  S.Save = Save;
  S.ReadyBranch = Save->getParent()->getSinglePredecessor();
  std::optional<SuspendKind> Kind = kindOf(Suspend);
  if (!Kind || !S.ReadyBranch)
    return std::nullopt;
  S.Kind = *Kind;
  for (User *U : Suspend.users())
    if (auto *Switch = dyn_cast<SwitchInst>(U);
        Switch && Switch->getCondition() == &Suspend)
      S.Switch = Switch;
  if (!S.Switch)
    return std::nullopt;
  for (const auto &Case : S.Switch->cases()) {
    if (Case.getCaseValue()->isZero())
      S.Ready = Case.getCaseSuccessor();
    else if (Case.getCaseValue()->isOne())
      S.Destroy = Case.getCaseSuccessor();
  }
  // The ready path and the resumed path meet at Ready.
  if (!S.Ready || !S.Destroy || S.Ready == S.Destroy ||
      !is_contained(successors(S.ReadyBranch), S.Ready))
    return std::nullopt;
  return S;
}

class Instrumenter {
public:
  Instrumenter(Function &F, const CoroutineInfo &Info)
      : F(F), M(*F.getParent()), Ctx(M.getContext()), Info(Info),
        Ptr(PointerType::getUnqual(Ctx)) {}

  /// False, with nothing changed, when the IR is not the shape clang emits.
  bool analyze();
  void instrument();
  unsigned suspensions() const { return Suspensions.size() - 2; }

private:
  Constant *string(StringRef Text);
  Constant *site(std::uint8_t Kind, std::uint8_t Waits, unsigned Line,
                 unsigned Column);
  Constant *siteOf(const Suspension &S);
  /// The site of the suspension at \p Line:\p Column (its keyword's).
  Constant *suspensionSite(unsigned Line, unsigned Column, SuspendKind Kind);
  Constant *creationSite(const CreationInfo &Creation);
  /// The calls of the body that create a coroutine (the table's), found
  /// from the body's start so that no ramp code is taken for one.
  void findCreationCalls();
  /// A new block on the edge From -> To, for a hook.
  Instruction *onEdge(BasicBlock *From, BasicBlock *To);
  /// `if (storage's body) Hook(storage, Extra...)` before \p Before.
  void ifTracked(Instruction *Before, StringRef Hook,
                 std::optional<Constant *> Site = std::nullopt);
  /// The table of the counters of awaits that did not suspend, one per
  /// await and yield site (coroscope/ir_abi.h); registered by the module's
  /// constructor (ReadySitesRegistration.h).
  void makeReadyCounters();
  /// Counts, on the await_ready branch's edge, an await that did not suspend.
  void countReady(const Suspension &S);

  Function &F;
  Module &M;
  LLVMContext &Ctx;
  const CoroutineInfo &Info;
  PointerType *Ptr;
  IntrinsicInst *Begin = nullptr;
  std::vector<Suspension> Suspensions;
  std::vector<CallBase *> HandlerCalls; // promise.unhandled_exception()
  std::vector<IntrinsicInst *> UnwindEnds;
  std::vector<std::pair<CallBase *, CreationInfo>> CreationCalls;
  AllocaInst *Storage = nullptr;
  Constant *Body = nullptr;
  DenseMap<std::pair<unsigned, unsigned>, Constant *> Sites;
  DenseMap<std::pair<unsigned, unsigned>, Constant *> CreationSites;
  DenseMap<Constant *, unsigned> ReadyIndex; // site -> entry
  StructType *ReadyType = nullptr;
  GlobalVariable *ReadyTable = nullptr;
  StringMap<Constant *> Strings;
};

bool Instrumenter::analyze() {
  unsigned Initial = 0, Final = 0;
  for (Instruction &I : instructions(F)) {
    auto *Call = dyn_cast<CallBase>(&I);
    if (!Call)
      continue;
    if (auto *Intrinsic = dyn_cast<IntrinsicInst>(Call)) {
      switch (Intrinsic->getIntrinsicID()) {
      case Intrinsic::coro_begin:
        if (Begin)
          return false;
        Begin = Intrinsic;
        break;
      case Intrinsic::coro_suspend: {
        std::optional<Suspension> S = shapeOf(*Intrinsic);
        if (!S)
          return false;
        Initial += S->Kind == SuspendKind::Initial;
        Final += S->Kind == SuspendKind::Final;
        Suspensions.push_back(*S);
        break;
      }
      case Intrinsic::coro_end:
        // llvm.coro.end(handle, i1 unwind, token)
        if (auto *Unwind = dyn_cast<ConstantInt>(Intrinsic->getArgOperand(1));
            Unwind && Unwind->isOne())
          UnwindEnds.push_back(Intrinsic);
        break;
      default:
        break;
      }
      continue;
    }
    if (const Function *Callee = Call->getCalledFunction())
      if (Callee->getName().contains("19unhandled_exceptionEv"))
        HandlerCalls.push_back(Call);
  }
  // Funclet-based exception handling (Windows) keeps hooks out of its pads.
  bool Funclets =
      F.hasPersonalityFn() &&
      isScopedEHPersonality(classifyEHPersonality(F.getPersonalityFn()));
  // A body that never ends (`for (;;) co_yield`) has no final suspension.
  if (!Begin || Initial != 1 || Final > 1 || Funclets ||
      M.getDataLayout().getPointerSize() != 8)
    return false;
  findCreationCalls();
  return true;
}

void Instrumenter::findCreationCalls() {
  if (Info.Creations.empty())
    return;
  BasicBlock *Start = nullptr;
  for (const Suspension &S : Suspensions)
    if (S.Kind == SuspendKind::Initial)
      Start = S.Ready;
  SmallPtrSet<BasicBlock *, 32> Seen{Start};
  SmallVector<BasicBlock *, 32> Work{Start};
  while (!Work.empty()) {
    BasicBlock *Block = Work.pop_back_val();
    for (Instruction &I : *Block) {
      auto *Call = dyn_cast<CallBase>(&I);
      if (!Call || isa<IntrinsicInst>(Call) || !Call->getDebugLoc() ||
          isAwaiterCall(*Call))
        continue;
      const DebugLoc &Loc = Call->getDebugLoc();
      auto Found = Info.Creations.find({Loc.getLine(), Loc.getCol()});
      if (Found != Info.Creations.end())
        CreationCalls.emplace_back(Call, Found->second);
    }
    for (BasicBlock *Next : successors(Block))
      if (Seen.insert(Next).second)
        Work.push_back(Next);
  }
}

Constant *Instrumenter::string(StringRef Text) {
  return privateString(M, Strings, Text);
}

Constant *Instrumenter::site(std::uint8_t Kind, std::uint8_t Waits,
                             unsigned Line, unsigned Column) {
  Type *I8 = Type::getInt8Ty(Ctx), *I32 = Type::getInt32Ty(Ctx);
  // coroscope::site (coroscope/ir_abi.h): function, file, line, column,
  // kind, waits_for, records_exceptions.
  auto *Type = StructType::get(Ctx, {Ptr, Ptr, I32, I32, I8, I8, I8});
  bool IsBody = Kind == COROSCOPE_IR_KIND_BODY;
  auto *Value = ConstantStruct::get(
      Type,
      {string(Info.Function), string(Info.File), ConstantInt::get(I32, Line),
       ConstantInt::get(I32, Column), ConstantInt::get(I8, Kind),
       ConstantInt::get(I8, Waits), ConstantInt::get(I8, IsBody)});
  auto *Global =
      new GlobalVariable(M, Type, /*isConstant=*/true,
                         GlobalValue::PrivateLinkage, Value, ".coroscope.site");
  Global->setAlignment(Align(8));
  return Global;
}

Constant *Instrumenter::siteOf(const Suspension &S) {
  unsigned Line = 0, Column = 0;
  if (const DebugLoc &Loc = S.Suspend->getDebugLoc()) {
    Line = Loc.getLine();
    Column = Loc.getCol();
  }
  return suspensionSite(Line, Column, S.Kind);
}

Constant *Instrumenter::suspensionSite(unsigned Line, unsigned Column,
                                       SuspendKind SKind) {
  Constant *&Found = Sites[{Line, Column}];
  if (Found)
    return Found;
  // A suspension the AST did not see where the IR puts it keeps its kind;
  // what it waits for is unknown, as in a template, so it may be a child.
  std::uint8_t Kind = SKind == SuspendKind::Yield ? COROSCOPE_IR_KIND_YIELD
                                                  : COROSCOPE_IR_KIND_AWAIT;
  std::uint8_t Waits = SKind == SuspendKind::Yield ? COROSCOPE_IR_AWAITS_EVENT
                                                   : COROSCOPE_IR_AWAITS_CHILD;
  auto Known = Info.Suspensions.find({Line, Column});
  if (Known != Info.Suspensions.end()) {
    Kind = Known->second.Kind;
    Waits = Known->second.Waits;
    if (Known->second.InMacro)
      Column = 0;
  }
  Found = site(Kind, Waits, Line, Column);
  return Found;
}

Constant *Instrumenter::creationSite(const CreationInfo &Creation) {
  if (Creation.AtSuspension)
    return suspensionSite(Creation.Line, Creation.Column, SuspendKind::Await);
  Constant *&Found = CreationSites[{Creation.Line, Creation.Column}];
  if (!Found)
    Found = site(COROSCOPE_IR_KIND_CREATION, COROSCOPE_IR_AWAITS_EVENT,
                 Creation.Line, Creation.Column);
  return Found;
}

Instruction *Instrumenter::onEdge(BasicBlock *From, BasicBlock *To) {
  BasicBlock *Middle = SplitEdge(From, To);
  return Middle->getTerminator();
}

void Instrumenter::ifTracked(Instruction *Before, StringRef Hook,
                             std::optional<Constant *> Site) {
  IRBuilder<> B(Before);
  Value *BodySite = B.CreateLoad(Ptr, Storage, "coroscope.body");
  Instruction *Then = SplitBlockAndInsertIfThen(B.CreateIsNotNull(BodySite),
                                                Before, /*Unreachable=*/false);
  IRBuilder<> Call(Then);
  SmallVector<Value *, 2> Arguments{Storage};
  if (Site)
    Arguments.push_back(*Site);
  Call.CreateCall(weakHook(M, Hook, Arguments.size()), Arguments)
      ->setDoesNotThrow();
}

void Instrumenter::makeReadyCounters() {
  Type *I64 = Type::getInt64Ty(Ctx);
  SmallVector<Constant *, 8> Entries;
  auto *EntryType = StructType::get(Ctx, {Ptr, I64});
  for (const Suspension &S : Suspensions) {
    if (S.Kind != SuspendKind::Await && S.Kind != SuspendKind::Yield)
      continue;
    Constant *At = siteOf(S);
    if (ReadyIndex.try_emplace(At, Entries.size()).second)
      Entries.push_back(
          ConstantStruct::get(EntryType, {At, ConstantInt::get(I64, 0)}));
  }
  if (Entries.empty())
    return;
  auto *EntriesType = ArrayType::get(EntryType, Entries.size());
  ReadyType = StructType::get(Ctx, {Ptr, I64, EntriesType});
  ReadyTable = new GlobalVariable(
      M, ReadyType, /*isConstant=*/false, GlobalValue::PrivateLinkage,
      ConstantStruct::get(ReadyType,
                          {ConstantPointerNull::get(Ptr),
                           ConstantInt::get(I64, Entries.size()),
                           ConstantArray::get(EntriesType, Entries)}),
      ReadySitesTableName);
  ReadyTable->setAlignment(Align(8));
}

void Instrumenter::countReady(const Suspension &S) {
  Type *I32 = Type::getInt32Ty(Ctx), *I64 = Type::getInt64Ty(Ctx);
  Constant *Indices[] = {ConstantInt::get(I32, 0), ConstantInt::get(I32, 2),
                         ConstantInt::get(I32, ReadyIndex.lookup(siteOf(S))),
                         ConstantInt::get(I32, 1)};
  Constant *Counter =
      ConstantExpr::getInBoundsGetElementPtr(ReadyType, ReadyTable, Indices);
  // A relaxed load and store, not a locked add: a few cycles, no call.
  IRBuilder<> B(onEdge(S.ReadyBranch, S.Ready));
  LoadInst *Count = B.CreateAlignedLoad(I64, Counter, Align(8));
  Count->setAtomic(AtomicOrdering::Monotonic);
  B.CreateAlignedStore(B.CreateAdd(Count, ConstantInt::get(I64, 1)), Counter,
                       Align(8))
      ->setAtomic(AtomicOrdering::Monotonic);
}

void Instrumenter::instrument() {
  IRBuilder<> Entry(&*F.getEntryBlock().getFirstInsertionPt());
  Type *Bytes = ArrayType::get(Type::getInt8Ty(Ctx), COROSCOPE_IR_FRAME_SIZE);
  Storage = Entry.CreateAlloca(Bytes, nullptr, "coroscope.frame");
  Storage->setAlignment(Align(COROSCOPE_IR_FRAME_ALIGN));
  // Untracked until the body starts: the hooks read this.
  IRBuilder<> AfterBegin(Begin->getNextNode());
  StoreInst *Untracked =
      AfterBegin.CreateStore(ConstantPointerNull::get(Ptr), Storage);
  // The ramp runs where the coroutine is created; its body may start much
  // later, on another thread.
  Value *Created[] = {Storage};
  callIfLinked(M, COROSCOPE_IR_CREATED, Created, Untracked->getNextNode(),
               /*WarnIfMissing=*/true);
  Body = site(COROSCOPE_IR_KIND_BODY, COROSCOPE_IR_AWAITS_EVENT, Info.Line,
              Info.Column);
  makeReadyCounters();

  // Edges first: the hooks inside blocks below split those blocks.
  for (const Suspension &S : Suspensions) {
    switch (S.Kind) {
    case SuspendKind::Initial:
      callIfLinked(M, "coroscope_never_started", {Body},
                   onEdge(S.Switch->getParent(), S.Destroy));
      break;
    case SuspendKind::Await:
    case SuspendKind::Yield: {
      // Every way into Ready but the await_ready branch comes after the
      // suspend hook: resumed, or await_suspend returned false.
      SmallVector<BasicBlock *, 4> After;
      for (BasicBlock *Pred : predecessors(S.Ready))
        if (Pred != S.ReadyBranch && !is_contained(After, Pred))
          After.push_back(Pred);
      for (BasicBlock *Pred : After)
        ifTracked(onEdge(Pred, S.Ready), COROSCOPE_IR_RESUME);
      ifTracked(onEdge(S.Switch->getParent(), S.Destroy),
                COROSCOPE_IR_DESTROYED);
      // Last: the new block is one more way into Ready.
      countReady(S);
      break;
    }
    case SuspendKind::Final:
      break;
    }
  }
  for (const Suspension &S : Suspensions) {
    switch (S.Kind) {
    case SuspendKind::Initial: {
      Value *Arguments[] = {Storage, Body};
      callIfLinked(M, COROSCOPE_IR_BEGIN, Arguments,
                   &*S.Ready->getFirstInsertionPt());
      break;
    }
    case SuspendKind::Await:
    case SuspendKind::Yield:
      ifTracked(S.Save, COROSCOPE_IR_SUSPEND, siteOf(S));
      break;
    case SuspendKind::Final:
      // Suspending, or ready; end nulls the body, so one of them runs it.
      ifTracked(S.Save, COROSCOPE_IR_END);
      ifTracked(&*S.Ready->getFirstInsertionPt(), COROSCOPE_IR_END);
      break;
    }
  }
  for (CallBase *Handler : HandlerCalls)
    ifTracked(Handler, COROSCOPE_IR_FAILED);
  for (IntrinsicInst *End : UnwindEnds)
    ifTracked(End, COROSCOPE_IR_UNWOUND);
  // Last: these split blocks the suspensions above were found by.
  for (auto &[Call, Creation] : CreationCalls)
    ifTracked(Call, COROSCOPE_IR_CREATING, creationSite(Creation));
}

} // namespace

PreservedAnalyses SuspensionHooksPass::run(Function &F,
                                           FunctionAnalysisManager &) {
  if (!F.isPresplitCoroutine())
    return PreservedAnalyses::all();
  const DILocation *Declared = nullptr;
  for (Instruction &I : instructions(F))
    if (auto *Suspend = dyn_cast<IntrinsicInst>(&I);
        Suspend && Suspend->getIntrinsicID() == Intrinsic::coro_suspend &&
        kindOf(*Suspend) == SuspendKind::Initial) {
      Declared = Suspend->getDebugLoc().get();
      break;
    }
  const CoroutineInfo *Info =
      Declared ? Table->find(F.getName(), Declared->getFilename(),
                             Declared->getLine(), Declared->getColumn())
               : nullptr;
  if (!Info)
    return PreservedAnalyses::all();
  Instrumenter I(F, *Info);
  if (!I.analyze()) {
    errs() << Info->File << ": warning: coroscope: '" << Info->Function
           << "' is not the shape the IR engine knows; left uninstrumented\n";
    return PreservedAnalyses::all();
  }
  I.instrument();
  if (Verbose)
    errs() << "coroscope: ir: " << Info->Function << ": " << I.suspensions()
           << " suspension points\n";
  return PreservedAnalyses::none();
}

} // namespace coroscope::rewriter
