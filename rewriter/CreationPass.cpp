//===--- CreationPass.cpp - Where each coroutine is created ---------------===//

#include "CreationPass.h"
#include "InstrumentedCoroutine.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

using namespace llvm;

namespace coroscope::rewriter {

PreservedAnalyses CreationPass::run(Function &F, FunctionAnalysisManager &) {
  if (!F.isPresplitCoroutine())
    return PreservedAnalyses::all();
  BodyStart Start = findBodyStart(F);
  if (!Start.Constructor)
    return PreservedAnalyses::all();
  // The tracking object is a local of the body: CoroSplit moves it into the
  // coroutine frame, where its address is the same from the ramp on.
  auto *Object = dyn_cast<AllocaInst>(
      Start.Constructor->getArgOperand(0)->stripPointerCasts());
  IntrinsicInst *Begin = nullptr;
  for (Instruction &I : instructions(F))
    if (auto *Intrinsic = dyn_cast<IntrinsicInst>(&I);
        Intrinsic && Intrinsic->getIntrinsicID() == Intrinsic::coro_begin) {
      if (Begin)
        return PreservedAnalyses::all(); // not the shape clang emits
      Begin = Intrinsic;
    }
  if (!Object || !Begin || Object->getParent() != &F.getEntryBlock())
    return PreservedAnalyses::all();

  Module &M = *F.getParent();
  FunctionCallee Hook = weakHook(M, "coroscope_coroutine_created");
  auto *HookFn = dyn_cast<Function>(Hook.getCallee());
  if (!HookFn)
    return PreservedAnalyses::all();
  Instruction *After = Begin->getNextNode();
  IRBuilder<> B(After);
  Instruction *Then = SplitBlockAndInsertIfThen(B.CreateIsNotNull(HookFn),
                                                After, /*Unreachable=*/false);
  B.SetInsertPoint(Then);
  B.CreateCall(Hook, {Object})->setDoesNotThrow();
  return PreservedAnalyses::none();
}

} // namespace coroscope::rewriter
