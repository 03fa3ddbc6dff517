//===--- CoroTidyModule.cpp - the coro clang-tidy module ------------------===//

#include "BlockingCallCheck.h"
#include "DanglingReferenceCheck.h"
#include "LockAcrossSuspendCheck.h"
#include "LockOrderCheck.h"
#include "UnawaitedTaskCheck.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang/Basic/Version.h"
// LLVM 22 moved the registry into ClangTidyModule.h and deprecated this.
#if CLANG_VERSION_MAJOR < 22
#include "clang-tidy/ClangTidyModuleRegistry.h"
#endif

namespace coroscope {

class CoroTidyModule : public clang::tidy::ClangTidyModule {
public:
  void addCheckFactories(
      clang::tidy::ClangTidyCheckFactories &CheckFactories) override {
    CheckFactories.registerCheck<BlockingCallCheck>("coro-blocking-call");
    CheckFactories.registerCheck<DanglingReferenceCheck>(
        "coro-dangling-reference");
    CheckFactories.registerCheck<LockAcrossSuspendCheck>(
        "coro-lock-across-suspend");
    CheckFactories.registerCheck<LockOrderCheck>("coro-lock-order-inversion");
    CheckFactories.registerCheck<UnawaitedTaskCheck>("coro-unawaited-task");
  }
};

} // namespace coroscope

static clang::tidy::ClangTidyModuleRegistry::Add<coroscope::CoroTidyModule>
    CoroModuleRegistration("coro-module",
                           "Checks for C++20 coroutine correctness.");
