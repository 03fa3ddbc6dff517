//===--- SuspensionSites.h - what both engines instrument --------*- C++
//-*-===//
//
// Shared by the source engine (Instrumenter.cpp) and the IR engine's tables
// (CoroutineSiteTable.cpp, LockSiteTable.cpp): which files are the
// project's, how sites name them, and the suspension points, co_returns and
// calls of one coroutine body.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_SUSPENSIONSITES_H
#define COROSCOPE_REWRITER_SUSPENSIONSITES_H

#include "CoroutineKnowledge.h"
#include "Instrumenter.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/Regex.h"
#include <vector>

namespace coroscope::rewriter {

/// Which files are the project's: the main file, and headers that are not
/// system headers and match the header filter.
class ProjectFiles {
public:
  ProjectFiles(const clang::SourceManager &SM, const Options &Opts)
      : SM(SM), Filter(Opts.HeaderFilter) {}

  bool contains(clang::FileID FID);
  bool isSystem(clang::FileID FID) const;

private:
  bool decide(clang::FileID FID) const;

  const clang::SourceManager &SM;
  llvm::Regex Filter;
  llvm::DenseMap<clang::FileID, bool> Cache;
};

/// \p FID as sites name it: the main file as the compiler was given it, a
/// header by its real path.
std::string siteFileName(const clang::SourceManager &SM, clang::FileID FID);

/// Runs \p Build, an IR engine's table builder, under crash recovery: the
/// plugin never breaks a build. False after a crash, with one warning on
/// \p InFile saying that \p What crashed and \p Consequence.
bool buildTableSafely(llvm::StringRef InFile, llvm::StringRef What,
                      llvm::StringRef Consequence,
                      llvm::function_ref<void()> Build);

struct SuspensionSite {
  const clang::Stmt *S; // CoawaitExpr, DependentCoawaitExpr, CoyieldExpr
                        // or CoreturnStmt
  bool InRangeInit;     // in a range-for initializer
};

/// Adds the co_yields in tail position of \p S to \p Out: nothing runs after
/// them but the end of the body, as in the `co_yield co_await x` that
/// sync_wait and when_all tasks end with. Destroyed there, a coroutine has
/// run its whole body: it finished, it was not abandoned.
void collectTailYields(const clang::Stmt *S,
                       llvm::SmallPtrSetImpl<const clang::Stmt *> &Out);

/// True when \p Body already has the source engine's tracking object.
bool hasSourceHooks(const clang::CompoundStmt &Body);

/// True when \p Call returns a coroutine's task: it creates a coroutine.
bool createsCoroutine(const clang::CallExpr &Call, TaskClassifier &Tasks);
/// Where a creation call begins, as reports give it: a call of a lambda or
/// function object starts at the object (LLVM 22 begins a call operator's
/// call at its parenthesis).
clang::SourceLocation creationCallBegin(const clang::CallExpr &Call);
/// The suspensions' operands, as the creation calls among them are matched:
/// a call awaited or yielded at once is created where it is awaited.
llvm::DenseMap<const clang::Expr *, const clang::Stmt *>
operandsOf(const std::vector<SuspensionSite> &Sites);

/// The operand of a suspension as written; null for a co_return.
const clang::Expr *suspensionOperand(const clang::Stmt *S);
/// The co_await, co_yield or co_return keyword of \p S.
clang::SourceLocation keywordLoc(const clang::Stmt *S);

/// The suspension points and co_returns of one coroutine body, without
/// those of nested lambdas and local classes (functions of their own).
class SiteFinder : public EvaluatedCodeVisitor<SiteFinder> {
  using Base = EvaluatedCodeVisitor<SiteFinder>;

public:
  SiteFinder(const clang::ASTContext &Ctx) : Base(Ctx) {}
  std::vector<SuspensionSite> Sites;

  bool VisitCoawaitExpr(clang::CoawaitExpr *E) {
    if (!E->isImplicit())
      Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitDependentCoawaitExpr(clang::DependentCoawaitExpr *E) {
    Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitCoyieldExpr(clang::CoyieldExpr *E) {
    Sites.push_back({E, RangeInitDepth > 0});
    return true;
  }
  bool VisitCoreturnStmt(clang::CoreturnStmt *S) {
    if (!S->isImplicit())
      Sites.push_back({S, false});
    return true;
  }
  /// Every call; the collector keeps those that create a coroutine.
  bool VisitCallExpr(clang::CallExpr *E) {
    Calls.push_back(E);
    return true;
  }
  std::vector<const clang::CallExpr *> Calls;
  /// A co_await that initializes an object by value (`auto r = co_await
  /// x;`, a class or an undeduced type): g++ 12 copies the bytes of a class
  /// object initialized from `(hook, co_await x)`, so its hook must go on
  /// the operand.
  bool VisitVarDecl(clang::VarDecl *D);
  llvm::SmallPtrSet<const clang::Stmt *, 4> InitializesObject;
  bool TraverseCXXForRangeStmt(clang::CXXForRangeStmt *S);

private:
  unsigned RangeInitDepth = 0;
};

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_SUSPENSIONSITES_H
