//===--- CoroTidyModule.cpp - the coro clang-tidy module
//-------------------===//

#include "BlockingCallCheck.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang-tidy/ClangTidyModuleRegistry.h"

namespace coroscope {

class CoroTidyModule : public clang::tidy::ClangTidyModule {
public:
  void addCheckFactories(
      clang::tidy::ClangTidyCheckFactories &CheckFactories) override {
    CheckFactories.registerCheck<BlockingCallCheck>("coro-blocking-call");
  }
};

} // namespace coroscope

static clang::tidy::ClangTidyModuleRegistry::Add<coroscope::CoroTidyModule>
    CoroModuleRegistration("coro-module",
                           "Checks for C++20 coroutine correctness.");
