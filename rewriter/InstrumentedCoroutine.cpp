//===--- InstrumentedCoroutine.cpp - The source hooks seen in LLVM IR -----===//

#include "InstrumentedCoroutine.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

using namespace llvm;

namespace coroscope::rewriter {
namespace {

/// coroscope::frame::frame(const coroscope::site *), complete or base.
bool isFrameConstructor(const Function &Callee) {
  StringRef Name = Callee.getName();
  return Name == "_ZN9coroscope5frameC1EPKNS_4siteE" ||
         Name == "_ZN9coroscope5frameC2EPKNS_4siteE";
}

} // namespace

BodyStart findBodyStart(Function &F) {
  for (Instruction &I : instructions(F))
    if (auto *Call = dyn_cast<CallBase>(&I))
      if (const Function *Callee = Call->getCalledFunction();
          Callee && isFrameConstructor(*Callee) && Call->arg_size() == 2)
        return {Call, dyn_cast<Constant>(
                          Call->getArgOperand(1)->stripPointerCasts())};
  return {};
}

FunctionCallee weakHook(Module &M, StringRef Name, unsigned Pointers) {
  LLVMContext &Ctx = M.getContext();
  SmallVector<Type *, 2> Parameters(Pointers, PointerType::getUnqual(Ctx));
  FunctionCallee Hook = M.getOrInsertFunction(
      Name, FunctionType::get(Type::getVoidTy(Ctx), Parameters, false));
  if (auto *Fn = dyn_cast<Function>(Hook.getCallee())) {
    if (Fn->isDeclaration())
      Fn->setLinkage(GlobalValue::ExternalWeakLinkage);
    Fn->setDoesNotThrow();
  }
  return Hook;
}

void callIfLinked(Module &M, StringRef Hook, ArrayRef<Value *> Arguments,
                  Instruction *Before) {
  FunctionCallee Callee = weakHook(M, Hook, Arguments.size());
  IRBuilder<> B(Before);
  Instruction *Then = SplitBlockAndInsertIfThen(
      B.CreateIsNotNull(Callee.getCallee()), Before, /*Unreachable=*/false);
  B.SetInsertPoint(Then);
  B.CreateCall(Callee, Arguments)->setDoesNotThrow();
}

} // namespace coroscope::rewriter
