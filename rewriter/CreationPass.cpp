//===--- CreationPass.cpp - Where each coroutine is created ---------------===//

#include "CreationPass.h"
#include "InstrumentedCoroutine.h"

#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace coroscope::rewriter {

PreservedAnalyses CreationPass::run(Function &F, FunctionAnalysisManager &) {
  if (!F.isPresplitCoroutine())
    return PreservedAnalyses::all();
  BodyStart Start = findBodyStart(F);
  if (!Start.Constructor)
    return PreservedAnalyses::all();
  IntrinsicInst *Begin = nullptr;
  for (Instruction &I : instructions(F))
    if (auto *Intrinsic = dyn_cast<IntrinsicInst>(&I);
        Intrinsic && Intrinsic->getIntrinsicID() == Intrinsic::coro_begin) {
      if (Begin)
        return PreservedAnalyses::all(); // not the shape clang emits
      Begin = Intrinsic;
    }
  if (!Begin)
    return PreservedAnalyses::all();
  // The coroutine's frame identifies it from the ramp to the body: the
  // tracking object may live in the frame or, in a body that never
  // suspends, on the stack of each function CoroSplit makes.
  Module &M = *F.getParent();
  callIfLinked(M, "coroscope_coroutine_created", {Begin}, Begin->getNextNode());
  callIfLinked(M, "coroscope_coroutine_starting", {Begin}, Start.Constructor);
  return PreservedAnalyses::none();
}

} // namespace coroscope::rewriter
