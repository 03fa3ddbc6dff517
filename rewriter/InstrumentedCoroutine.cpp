//===--- InstrumentedCoroutine.cpp - The source hooks seen in LLVM IR -----===//

#include "InstrumentedCoroutine.h"

#include "coroscope/ir_abi.h"

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

Constant *privateString(Module &M, StringMap<Constant *> &Made, StringRef Text) {
  Constant *&Found = Made[Text];
  if (!Found) {
    auto *Bytes = ConstantDataArray::getString(M.getContext(), Text);
    auto *Global = new GlobalVariable(M, Bytes->getType(), /*isConstant=*/true,
                                      GlobalValue::PrivateLinkage, Bytes,
                                      ".coroscope.str");
    Global->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    Global->setAlignment(Align(1));
    Found = Global;
  }
  return Found;
}

namespace {

constexpr StringLiteral RuntimeMissing = COROSCOPE_RUNTIME_MISSING_LINE;

/// `void coroscope.warn_runtime_missing()`: one definition per program
/// (linkonce_odr), so the line is printed once however many objects call it.
Function *runtimeMissingWarning(Module &M) {
  constexpr StringLiteral Name = "coroscope.warn_runtime_missing";
  if (Function *Existing = M.getFunction(Name))
    return Existing;
  LLVMContext &Ctx = M.getContext();
  Type *I8 = Type::getInt8Ty(Ctx), *I32 = Type::getInt32Ty(Ctx);
  Type *Size = M.getDataLayout().getIntPtrType(Ctx);
  PointerType *Ptr = PointerType::getUnqual(Ctx);
  Function *Warn = Function::createWithDefaultAttr(
      FunctionType::get(Type::getVoidTy(Ctx), false),
      GlobalValue::LinkOnceODRLinkage,
      M.getDataLayout().getProgramAddressSpace(), Name, &M);
  Warn->setVisibility(GlobalValue::HiddenVisibility);
  Warn->setDoesNotThrow();
  auto *Said = new GlobalVariable(
      M, I8, /*isConstant=*/false, GlobalValue::LinkOnceODRLinkage,
      ConstantInt::get(I8, 0), "coroscope.runtime_missing_said");
  Said->setVisibility(GlobalValue::HiddenVisibility);

  auto *Entry = BasicBlock::Create(Ctx, "", Warn);
  auto *Check = BasicBlock::Create(Ctx, "check", Warn);
  auto *Compare = BasicBlock::Create(Ctx, "compare", Warn);
  auto *Say = BasicBlock::Create(Ctx, "say", Warn);
  auto *Done = BasicBlock::Create(Ctx, "done", Warn);
  IRBuilder<> B(Entry);
  Value *Before =
      B.CreateAtomicRMW(AtomicRMWInst::Xchg, Said, ConstantInt::get(I8, 1),
                        MaybeAlign(1), AtomicOrdering::Monotonic);
  B.CreateCondBr(B.CreateIsNull(Before), Check, Done);

  B.SetInsertPoint(Check);
  FunctionCallee GetEnv =
      M.getOrInsertFunction("getenv", FunctionType::get(Ptr, {Ptr}, false));
  Value *Setting = B.CreateCall(GetEnv, {B.CreateGlobalString("COROSCOPE")});
  B.CreateCondBr(B.CreateIsNull(Setting), Say, Compare);

  B.SetInsertPoint(Compare);
  FunctionCallee StrCmp = M.getOrInsertFunction(
      "strcmp", FunctionType::get(I32, {Ptr, Ptr}, false));
  Value *Off = B.CreateOr(B.CreateIsNull(B.CreateCall(
                              StrCmp, {Setting, B.CreateGlobalString("0")})),
                          B.CreateIsNull(B.CreateCall(
                              StrCmp, {Setting, B.CreateGlobalString("off")})));
  B.CreateCondBr(Off, Done, Say);

  B.SetInsertPoint(Say);
  FunctionCallee Write = M.getOrInsertFunction(
      "write", FunctionType::get(Size, {I32, Ptr, Size}, false));
  B.CreateCall(Write,
               {ConstantInt::get(I32, 2), B.CreateGlobalString(RuntimeMissing),
                ConstantInt::get(Size, RuntimeMissing.size())});
  B.CreateBr(Done);

  B.SetInsertPoint(Done);
  B.CreateRetVoid();
  return Warn;
}

} // namespace

void callIfLinked(Module &M, StringRef Hook, ArrayRef<Value *> Arguments,
                  Instruction *Before, bool WarnIfMissing) {
  FunctionCallee Callee = weakHook(M, Hook, Arguments.size());
  IRBuilder<> B(Before);
  Value *Linked = B.CreateIsNotNull(Callee.getCallee());
  if (!WarnIfMissing) {
    B.SetInsertPoint(SplitBlockAndInsertIfThen(Linked, Before,
                                               /*Unreachable=*/false));
    B.CreateCall(Callee, Arguments)->setDoesNotThrow();
    return;
  }
  Instruction *Then = nullptr, *Else = nullptr;
  SplitBlockAndInsertIfThenElse(Linked, Before, &Then, &Else);
  B.SetInsertPoint(Then);
  B.CreateCall(Callee, Arguments)->setDoesNotThrow();
  B.SetInsertPoint(Else);
  B.CreateCall(runtimeMissingWarning(M))->setDoesNotThrow();
}

} // namespace coroscope::rewriter
