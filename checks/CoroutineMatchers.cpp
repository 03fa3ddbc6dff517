//===--- CoroutineMatchers.cpp - which functions a coro check analyses ----===//

#include "CoroutineMatchers.h"
#include "clang/AST/DeclTemplate.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace coroscope {

void addFunctionMatchers(MatchFinder &Finder, MatchFinder::MatchCallback *Check,
                         bool OnlyCoroutines) {
  if (OnlyCoroutines)
    Finder.addMatcher(functionDecl(isDefinition(), hasBody(coroutineBodyStmt()),
                                   unless(isExpansionInSystemHeader()))
                          .bind("function"),
                      Check);
  else
    Finder.addMatcher(
        functionDecl(isDefinition(), unless(isExpansionInSystemHeader()))
            .bind("function"),
        Check);
  Finder.addMatcher(
      lambdaExpr(unless(isExpansionInSystemHeader())).bind("lambda"), Check);
}

llvm::SmallVector<const FunctionDecl *, 4>
matchedFunctions(const MatchFinder::MatchResult &Result,
                 const LibraryBoundary &Boundary) {
  llvm::SmallVector<const FunctionDecl *, 4> Functions;
  if (const auto *FD = Result.Nodes.getNodeAs<FunctionDecl>("function"))
    Functions.push_back(FD);
  if (const auto *Lambda = Result.Nodes.getNodeAs<LambdaExpr>("lambda"))
    if (const CXXMethodDecl *Call = Lambda->getCallOperator()) {
      Functions.push_back(Call);
      if (const FunctionTemplateDecl *Generic =
              Call->getDescribedFunctionTemplate())
        for (const FunctionDecl *Spec : Generic->specializations())
          Functions.push_back(Spec);
    }
  llvm::erase_if(Functions, [&](const FunctionDecl *FD) {
    return Boundary.isLibraryCode(*FD);
  });
  return Functions;
}

} // namespace coroscope
