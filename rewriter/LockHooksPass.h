//===--- LockHooksPass.h - the IR engine's lock hooks -----------*- C++ -*-===//
//
// Brackets the lock acquisitions and releases LockSiteTable found with the
// runtime's weak lock hooks (coroscope/ir_abi.h): a guard's construction
// between lock_waiting and lock_acquired, and lock_released before each
// destruction of that guard; a manual lock the same way, and
// lock_released before a manual unlock. Every function is a candidate, in
// a coroutine or not: a lock order is one whoever takes it.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_LOCKHOOKSPASS_H
#define COROSCOPE_REWRITER_LOCKHOOKSPASS_H

#include "LockSiteTable.h"

#include "llvm/IR/PassManager.h"
#include <memory>

namespace coroscope::rewriter {

class LockHooksPass : public llvm::PassInfoMixin<LockHooksPass> {
public:
  LockHooksPass(std::shared_ptr<const LockSiteTable> Table, bool Verbose)
      : Table(std::move(Table)), Verbose(Verbose) {}
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &AM);
  static bool isRequired() { return true; } // also at -O0 and optnone

private:
  std::shared_ptr<const LockSiteTable> Table;
  bool Verbose;
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_LOCKHOOKSPASS_H
