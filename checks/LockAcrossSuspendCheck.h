//===--- LockAcrossSuspendCheck.h - coro-lock-across-suspend --------------===//

#ifndef COROSCOPE_CHECKS_LOCKACROSSSUSPENDCHECK_H
#define COROSCOPE_CHECKS_LOCKACROSSSUSPENDCHECK_H

#include "BlockingCatalogue.h"
#include "LibraryOptions.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <memory>
#include <string>

namespace coroscope {

/// Finds synchronous locks held at a coroutine's suspension points
/// (co_await, co_yield), flow-sensitively over the coroutine's CFG.
///
/// For the user-facing documentation see
/// docs/checks/coro-lock-across-suspend.md.
class LockAcrossSuspendCheck : public clang::tidy::ClangTidyCheck {
public:
  LockAcrossSuspendCheck(llvm::StringRef Name,
                         clang::tidy::ClangTidyContext *Context);
  ~LockAcrossSuspendCheck() override;

  bool isLanguageVersionSupported(
      const clang::LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus20;
  }
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void
  check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

  struct Analysis;

private:
  void analyzeCoroutine(const clang::FunctionDecl &Coroutine,
                        clang::ASTContext &Ctx);

  const std::string LockTypesOption;
  const std::string AsyncLockTypesOption;
  const std::string AllowedAwaitablesOption;
  LibraryOptions Library;
  NameList LockTypes;
  NameList AsyncLockTypes;
  NameList AllowedAwaitables;
  std::unique_ptr<Analysis> State;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_LOCKACROSSSUSPENDCHECK_H
