//===--- UnawaitedTaskCheck.h - coro-unawaited-task -----------------------===//

#ifndef COROSCOPE_CHECKS_UNAWAITEDTASKCHECK_H
#define COROSCOPE_CHECKS_UNAWAITEDTASKCHECK_H

#include "BlockingCatalogue.h"
#include "LibraryOptions.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <memory>
#include <string>

namespace coroscope {

/// Finds coroutine tasks that are created and never awaited: calls whose
/// task is discarded, and local variables holding a task that is never
/// awaited, moved, passed on or captured.
///
/// For the user-facing documentation see docs/checks/coro-unawaited-task.md.
class UnawaitedTaskCheck : public clang::tidy::ClangTidyCheck {
public:
  UnawaitedTaskCheck(llvm::StringRef Name,
                     clang::tidy::ClangTidyContext *Context);
  ~UnawaitedTaskCheck() override;

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
  void analyzeFunction(const clang::FunctionDecl &FD);

  const std::string TaskTypesOption;
  const std::string IgnoredTypesOption;
  const bool ReportEagerDiscard;
  const bool AllowVoidCastForLazy;
  LibraryOptions Library;
  NameList TaskTypes;
  NameList IgnoredTypes;
  std::unique_ptr<Analysis> State;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_UNAWAITEDTASKCHECK_H
