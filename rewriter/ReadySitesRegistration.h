//===--- ReadySitesRegistration.h - Hand the runtime the ready counts -*- C++
//-*-===//
//
// The IR engine counts the awaits that did not suspend inline, in a table per
// coroutine (SuspensionHooksPass.cpp, coroscope/ir_abi.h). This module pass
// runs after it and adds one module constructor that registers every table
// with the runtime, when the runtime is linked.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_READYSITESREGISTRATION_H
#define COROSCOPE_REWRITER_READYSITESREGISTRATION_H

#include "llvm/IR/PassManager.h"

namespace coroscope::rewriter {

/// The name SuspensionHooksPass gives each table, for this pass to find.
inline constexpr const char *ReadySitesTableName = ".coroscope.ready";

class ReadySitesRegistration
    : public llvm::PassInfoMixin<ReadySitesRegistration> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_READYSITESREGISTRATION_H
