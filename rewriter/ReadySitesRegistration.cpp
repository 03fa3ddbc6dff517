//===--- ReadySitesRegistration.cpp - Hand the runtime the ready counts ---===//

#include "ReadySitesRegistration.h"
#include "InstrumentedCoroutine.h"

#include "coroscope/ir_abi.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

namespace coroscope::rewriter {

PreservedAnalyses ReadySitesRegistration::run(Module &M,
                                              ModuleAnalysisManager &) {
  SmallVector<GlobalVariable *, 16> Tables;
  for (GlobalVariable &Global : M.globals())
    if (Global.hasPrivateLinkage() &&
        Global.getName().starts_with(ReadySitesTableName))
      Tables.push_back(&Global);
  if (Tables.empty())
    return PreservedAnalyses::all();
  LLVMContext &Ctx = M.getContext();
  Function *Constructor = Function::createWithDefaultAttr(
      FunctionType::get(Type::getVoidTy(Ctx), false),
      GlobalValue::InternalLinkage, M.getDataLayout().getProgramAddressSpace(),
      "coroscope.register_ready_sites", &M);
  Constructor->setDoesNotThrow();
  IRBuilder<> B(BasicBlock::Create(Ctx, "", Constructor));
  Instruction *Return = B.CreateRetVoid();
  for (GlobalVariable *Table : Tables)
    callIfLinked(M, COROSCOPE_IR_READY_SITES, {Table}, Return);
  appendToGlobalCtors(M, Constructor, /*Priority=*/65535);
  return PreservedAnalyses::none();
}

} // namespace coroscope::rewriter
