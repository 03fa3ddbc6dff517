//===--- DanglingReferenceCheck.h - coro-dangling-reference ---------------===//

#ifndef COROSCOPE_CHECKS_DANGLINGREFERENCECHECK_H
#define COROSCOPE_CHECKS_DANGLINGREFERENCECHECK_H

#include "BlockingCatalogue.h"
#include "LibraryOptions.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <memory>
#include <string>

namespace coroscope {

/// Finds coroutine frames that keep a reference to an object that dies
/// before the frame reads it: reference, view and pointer parameters,
/// `this` and lambda captures bound to temporaries or to locals that die
/// while the task is still pending, and references to a co_await's result
/// that points into a temporary task.
///
/// For the user-facing documentation see
/// docs/checks/coro-dangling-reference.md.
class DanglingReferenceCheck : public clang::tidy::ClangTidyCheck {
public:
  DanglingReferenceCheck(llvm::StringRef Name,
                         clang::tidy::ClangTidyContext *Context);
  ~DanglingReferenceCheck() override;

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

  const std::string ViewTypesOption;
  const std::string SpawnFunctionsOption;
  const std::string RunnerFunctionsOption;
  const std::string LambdaWrappersOption;
  LibraryOptions Library;
  NameList ViewTypes;
  NameList SpawnFunctions;
  NameList RunnerFunctions;
  NameList LambdaWrappers;
  std::unique_ptr<Analysis> State;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_DANGLINGREFERENCECHECK_H
