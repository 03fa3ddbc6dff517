//===--- NeverStartedPass.h - Coroutines destroyed early ---*- C++ -*-===//
//
// The source engine's hooks run inside a coroutine's body, so a coroutine
// destroyed at its initial suspend point (a lazy task nobody awaited) never
// reaches them. Clang lowers that destruction to the "destroy" edge of the
// first llvm.coro.suspend, before CoroSplit: this pass puts a call to the
// runtime's weak coroscope_never_started(body site) on that edge, in every
// coroutine the source engine instrumented (its body constructs a
// coroscope::frame, whose constructor names the body's site).
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_NEVERSTARTEDPASS_H
#define COROSCOPE_REWRITER_NEVERSTARTEDPASS_H

#include "llvm/IR/PassManager.h"

namespace coroscope::rewriter {

class NeverStartedPass : public llvm::PassInfoMixin<NeverStartedPass> {
public:
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &AM);
  static bool isRequired() { return true; } // also at -O0 and optnone
};


} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_NEVERSTARTEDPASS_H
