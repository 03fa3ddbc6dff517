//===--- CoroutineMatchers.h - which functions a coro check analyses ------===//
//
// Every check analyses the same set of functions: definitions outside
// library code (only coroutines, or all), lambda call operators (reached
// through the lambda expression), and the instantiations of generic lambdas.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_COROUTINEMATCHERS_H
#define COROSCOPE_CHECKS_COROUTINEMATCHERS_H

#include "LibraryKnowledge.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/SmallVector.h"

namespace coroscope {

/// Registers \p Check for function definitions (coroutines only when
/// \p OnlyCoroutines) and for lambda expressions, outside system headers.
void addFunctionMatchers(clang::ast_matchers::MatchFinder &Finder,
                         clang::ast_matchers::MatchFinder::MatchCallback *Check,
                         bool OnlyCoroutines);

/// The functions one match of addFunctionMatchers stands for: the function,
/// or a lambda's call operator and a generic lambda's instantiations;
/// none that is a library's (\p Boundary).
llvm::SmallVector<const clang::FunctionDecl *, 4>
matchedFunctions(const clang::ast_matchers::MatchFinder::MatchResult &Result,
                 const LibraryBoundary &Boundary);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_COROUTINEMATCHERS_H
