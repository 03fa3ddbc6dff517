//===--- NeverStartedPass.cpp - Coroutines destroyed before they ran ------===//

#include "NeverStartedPass.h"
#include "InstrumentedCoroutine.h"

#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"

using namespace llvm;

namespace coroscope::rewriter {
namespace {

constexpr StringLiteral HookName = "coroscope_never_started";

/// The initial suspension: the one llvm.coro.suspend before the body's start
/// that is not the final one. (It does not dominate the body: when the
/// initial awaiter is ready, the body starts without suspending.)
IntrinsicInst *initialSuspend(Function &F, const CallBase &Constructor,
                              const DominatorTree &DT) {
  IntrinsicInst *Initial = nullptr;
  for (Instruction &I : instructions(F)) {
    auto *Suspend = dyn_cast<IntrinsicInst>(&I);
    if (!Suspend || Suspend->getIntrinsicID() != Intrinsic::coro_suspend ||
        DT.dominates(&Constructor, Suspend))
      continue;
    // llvm.coro.suspend(token save, i1 final)
    auto *Final = dyn_cast<ConstantInt>(Suspend->getArgOperand(1));
    if (!Final || Final->isOne())
      continue;
    if (Initial)
      return nullptr; // not the shape clang emits: leave it alone
    Initial = Suspend;
  }
  return Initial;
}

/// Calls the hook, when it is linked, on the edge from the suspension's
/// switch to its destroy block (case 1).
bool instrumentDestroyEdge(IntrinsicInst &Suspend, Constant &Body) {
  SwitchInst *Switch = nullptr;
  for (User *U : Suspend.users())
    if (auto *S = dyn_cast<SwitchInst>(U); S && S->getCondition() == &Suspend)
      Switch = S;
  if (!Switch)
    return false;
  auto Destroy = llvm::find_if(Switch->cases(), [](const auto &Case) {
    return Case.getCaseValue()->isOne();
  });
  if (Destroy == Switch->case_end())
    return false;
  BasicBlock *From = Switch->getParent();
  BasicBlock *To = Destroy->getCaseSuccessor();
  if (llvm::count(successors(From), To) != 1)
    return false; // a PHI in `To` could not tell the two edges apart

  Function &F = *From->getParent();
  Module &M = *F.getParent();
  LLVMContext &Ctx = M.getContext();
  FunctionCallee Hook = weakHook(M, HookName);
  auto *HookFn = dyn_cast<Function>(Hook.getCallee());
  if (!HookFn)
    return false;

  BasicBlock *Check =
      BasicBlock::Create(Ctx, "coroscope.never_started", &F, To);
  BasicBlock *Call =
      BasicBlock::Create(Ctx, "coroscope.never_started.call", &F, To);
  Destroy->setSuccessor(Check);
  for (PHINode &Phi : To->phis())
    Phi.replaceIncomingBlockWith(From, Check);
  IRBuilder<> B(Check);
  B.CreateCondBr(B.CreateIsNotNull(HookFn), Call, To);
  B.SetInsertPoint(Call);
  B.CreateCall(Hook, {&Body})->setDoesNotThrow();
  B.CreateBr(To);
  // `To` is now reached from Check (hook absent) and Call: a PHI there needs
  // both.
  for (PHINode &Phi : To->phis())
    Phi.addIncoming(Phi.getIncomingValueForBlock(Check), Call);
  return true;
}

} // namespace

PreservedAnalyses NeverStartedPass::run(Function &F,
                                        FunctionAnalysisManager &AM) {
  if (!F.isPresplitCoroutine())
    return PreservedAnalyses::all();
  BodyStart Start = findBodyStart(F);
  if (!Start.Constructor || !Start.Site)
    return PreservedAnalyses::all();
  IntrinsicInst *Suspend = initialSuspend(
      F, *Start.Constructor, AM.getResult<DominatorTreeAnalysis>(F));
  if (!Suspend || !instrumentDestroyEdge(*Suspend, *Start.Site))
    return PreservedAnalyses::all();
  return PreservedAnalyses::none();
}



} // namespace coroscope::rewriter
