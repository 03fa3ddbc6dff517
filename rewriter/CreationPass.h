//===--- CreationPass.h - Where each coroutine is created -------*- C++ -*-===//
//
// A lazy coroutine's body, where the source engine's hooks are, runs long
// after the call that created it, often on another thread (a task spawned
// onto an executor). Its ramp runs at the call: in every coroutine the
// source engine instrumented, this pass calls the runtime's weak
// coroscope_coroutine_created(frame) right after llvm.coro.begin, and
// coroscope_coroutine_starting(frame) right before the body's tracking
// object is made, so the runtime knows who created it and where when its
// body starts.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_CREATIONPASS_H
#define COROSCOPE_REWRITER_CREATIONPASS_H

#include "llvm/IR/PassManager.h"

namespace coroscope::rewriter {

class CreationPass : public llvm::PassInfoMixin<CreationPass> {
public:
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &AM);
  static bool isRequired() { return true; } // also at -O0 and optnone
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_CREATIONPASS_H
