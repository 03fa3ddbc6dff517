//===--- SuspensionHooksPass.h - the IR engine --------------------*- C++
//-*-===//
//
// The plugin's default engine on clang: one parse, and hooks added to the
// LLVM IR before CoroSplit, where clang has lowered every suspension to
// llvm.coro.save / llvm.coro.suspend on the path where the awaiter was not
// ready. So only real suspensions pay: an await whose awaiter is ready runs
// no hook at all. In each coroutine of the site table (CoroutineSiteTable.h)
// it adds, with the storage of a coroscope::frame among the coroutine's
// locals (coroscope/ir_abi.h):
//   - begin, where the initial suspension resumes or was ready: the body;
//   - suspend before each other suspension, resume on its resume edge and
//     destroyed on its destroy edge (exact cancellation);
//   - failed before promise.unhandled_exception(), end where the final
//     suspension begins, unwound where an exception leaves the coroutine;
//   - coroscope_never_started on the initial suspension's destroy edge.
// Every hook but begin first loads the storage's body pointer and calls
// only when the body is tracked, so the runtime off costs a load and a
// branch per suspension. A coroutine whose IR is not the shape clang emits
// is left as it is, whole.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_SUSPENSIONHOOKSPASS_H
#define COROSCOPE_REWRITER_SUSPENSIONHOOKSPASS_H

#include "CoroutineSiteTable.h"

#include "llvm/IR/PassManager.h"
#include <memory>

namespace coroscope::rewriter {

class SuspensionHooksPass : public llvm::PassInfoMixin<SuspensionHooksPass> {
public:
  SuspensionHooksPass(std::shared_ptr<const CoroutineSiteTable> Table,
                      bool Verbose)
      : Table(std::move(Table)), Verbose(Verbose) {}
  llvm::PreservedAnalyses run(llvm::Function &F,
                              llvm::FunctionAnalysisManager &AM);
  static bool isRequired() { return true; } // also at -O0 and optnone

private:
  std::shared_ptr<const CoroutineSiteTable> Table;
  bool Verbose;
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_SUSPENSIONHOOKSPASS_H
