//===--- LockOrderCheck.h - coro-lock-order-inversion ---------------------===//

#ifndef COROSCOPE_CHECKS_LOCKORDERCHECK_H
#define COROSCOPE_CHECKS_LOCKORDERCHECK_H

#include "BlockingCatalogue.h"
#include "LibraryOptions.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <memory>
#include <string>

namespace coroscope {

/// Infers the order in which each function takes locks (flow-sensitively,
/// through calls to functions defined in the translation unit) and reports
/// cycles in the lock-order graph, and locks taken again while held. With
/// FactsDirectory set it also writes the TU's lock-order facts for
/// `coroscope lockgraph`.
///
/// For the user-facing documentation see
/// docs/checks/coro-lock-order-inversion.md.
class LockOrderCheck : public clang::tidy::ClangTidyCheck {
public:
  LockOrderCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext *Context);
  ~LockOrderCheck() override;

  bool isLanguageVersionSupported(
      const clang::LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus;
  }
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(clang::ast_matchers::MatchFinder *Finder) override;
  void
  check(const clang::ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

  struct Analysis;

private:
  void writeFacts();

  const std::string AsyncLockFunctionsOption;
  const std::string FactsDirectory;
  const std::string FactsRoot;
  LibraryOptions Library;
  NameList AsyncLockFunctions;
  std::unique_ptr<Analysis> State;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_LOCKORDERCHECK_H
