//===--- BlockingCallCheck.h - coro-blocking-call -------------------------===//

#ifndef COROSCOPE_CHECKS_BLOCKINGCALLCHECK_H
#define COROSCOPE_CHECKS_BLOCKINGCALLCHECK_H

#include "BlockingCatalogue.h"
#include "LibraryOptions.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseMap.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

/// Finds calls that block the thread while a coroutine runs on it, directly
/// or through functions defined in the translation unit. With
/// FactsDirectory set it also writes the TU's blocking facts for
/// `coroscope link`, which follows calls into other translation units.
///
/// For the user-facing documentation see docs/checks/coro-blocking-call.md.
class BlockingCallCheck : public clang::tidy::ClangTidyCheck {
public:
  BlockingCallCheck(llvm::StringRef Name,
                    clang::tidy::ClangTidyContext *Context);
  ~BlockingCallCheck() override;

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
  void writeFacts();

  const std::string BlockingFunctions;
  const std::string AllowedFunctions;
  const std::string Replacements;
  const bool LockingIsBlocking;
  const bool FollowCalls;
  const std::string FactsDirectory;
  const std::string FactsRoot;
  const bool LockAcrossSuspendEnabled;
  LibraryOptions Library;
  BlockingCatalogue Catalogue;
  std::vector<std::pair<NameList, std::string>> ReplacementRules;
  std::unique_ptr<Analysis> State;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_BLOCKINGCALLCHECK_H
