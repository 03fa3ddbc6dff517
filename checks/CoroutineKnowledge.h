//===--- CoroutineKnowledge.h - What coroscope knows about coroutines -----===//
//
// The one place that decides what a coroutine is, how functions are named in
// diagnostics, and which code a function body really evaluates. Every check
// and the rewriter use these instead of their own copies.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_COROUTINEKNOWLEDGE_H
#define COROSCOPE_CHECKS_COROUTINEKNOWLEDGE_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/Version.h"
#include "llvm/ADT/DenseMap.h"
#include <optional>
#include <string>
#include <utility>

namespace coroscope {

/// True when \p FD has a body and that body is a coroutine body, i.e. it
/// contains co_await, co_yield or co_return. Holds for template patterns too.
bool isCoroutine(const clang::FunctionDecl &FD);

/// The statement a coroutine's user code lives in (skips the promise and the
/// implicit initial/final suspends). For a non-coroutine, its body.
const clang::Stmt *userBody(const clang::FunctionDecl &FD);

/// True when \p FD is, or is nested in, a template instantiation: its code
/// is a copy of a pattern the user wrote once.
bool isInstantiated(const clang::FunctionDecl &FD);

/// The qualified name without template arguments and inline namespaces, as a
/// user writes it in an option: "std::future::get", "asio::io_context::run",
/// "sleep". Specializations are named after their template.
std::string plainQualifiedName(const clang::NamedDecl &D);

/// The name of a function in a diagnostic: "handle_request", "Server::run", or
/// "(lambda at file:line:col)" for a lambda's call operator.
std::string functionDiagName(const clang::FunctionDecl &FD);

/// A called function in a diagnostic, with its namespaces:
/// "metrics::flush", "Server::refresh", "(lambda at file:line:col)".
std::string calleeName(const clang::FunctionDecl &FD);

/// The name a runtime report gives a coroutine: functionDiagName, except
/// that a lambda is named after where it is written, without a directory:
/// "serve::(lambda at server.cpp:40:18)".
std::string reportFunctionName(const clang::FunctionDecl &FD);

/// True when \p T is a class that declares a nested `promise_type`: the task
/// types of cppcoro, folly and libcoro. The runtime's is_task_v says the same.
bool declaresPromiseType(clang::QualType T);

/// The template instantiation \p FD is, or is nested in, for a note:
/// "take<Fetcher>" and its point of instantiation. For a function that is
/// not instantiated, its own name and location.
std::pair<std::string, clang::SourceLocation>
describeInstantiation(const clang::FunctionDecl &FD);

/// "coroutine 'handle_request'" or "coroutine lambda in 'serve'".
std::string describeCoroutine(const clang::FunctionDecl &FD);

/// Where a call is written to start: the object for `object(args)` and
/// `object[index]`, which clang 22 starts at the bracket.
clang::SourceLocation callBegin(const clang::CallExpr &Call);

/// The named function a lambda's call operator is written in, through
/// enclosing lambdas; null at namespace scope.
const clang::FunctionDecl *
enclosingNamedFunction(const clang::CXXMethodDecl &LambdaCall);

/// The class of the object a member call is made on (through pointers and
/// references), or null.
const clang::CXXRecordDecl *objectClass(const clang::Expr &Object);

/// True when \p S names one of \p Decls, as a variable or as a member.
bool referencesAny(const clang::Stmt *S,
                   llvm::ArrayRef<const clang::ValueDecl *> Decls);

/// \p E without what only converts or wraps a value on its way: parentheses,
/// default arguments, cleanups, temporaries' bindings, no-op, derived-to-base
/// and user-defined conversions.
const clang::Expr *skipTransparent(const clang::Expr *E);

/// True for a call of std::move, std::forward or std::as_const.
bool isStdMoveOrForward(const clang::CallExpr &Call);

/// Source text of \p E when it is short and spelled in one file, else "".
std::string shortSourceText(const clang::Expr &E, const clang::ASTContext &Ctx,
                            unsigned MaxLength = 40);

/// When a task starts running: at once when created (eager), or only when
/// awaited (lazy).
enum class TaskStart { Lazy, Eager };

/// A task type: a coroutine return type that can itself be awaited.
struct TaskInfo {
  /// The task's class (an instantiation for a class template).
  const clang::CXXRecordDecl *Class = nullptr;
  /// Its promise type's definition or pattern; null when unknown.
  const clang::CXXRecordDecl *Promise = nullptr;
  TaskStart Start = TaskStart::Eager;
};

/// Decides structurally, with no list of names, which types are tasks:
/// - a coroutine return type: a class with a nested `promise_type`, or one
///   that a `std::coroutine_traits` specialization gives a promise type;
/// - that is awaitable: a member or free `operator co_await`, the three
///   `await_*` members, or an `await_transform` of its own promise that
///   takes this class or template (`asio::awaitable`).
/// Generators and plain awaiters are not tasks. A task is lazy when its
/// promise's `initial_suspend` returns an awaiter whose `await_ready` is
/// constantly false (`std::suspend_always`), and eager otherwise.
/// Results are memoized per canonical type; one classifier per AST.
class TaskClassifier {
public:
  explicit TaskClassifier(const clang::ASTContext &Ctx) : Ctx(Ctx) {}

  /// The task \p T is, or nullopt. Dependent types are never tasks.
  std::optional<TaskInfo> classify(clang::QualType T);

  /// The promise type's definition (or pattern) for coroutine return type
  /// \p T, or null when \p T is not a coroutine return type.
  const clang::CXXRecordDecl *promiseOf(clang::QualType T);

  /// When a coroutine whose promise is \p Promise starts.
  TaskStart startOf(const clang::CXXRecordDecl &Promise);

  /// True when `co_await` of \p Task compiles, as far as its declarations
  /// show, in a coroutine whose promise is \p Promise: the promise has no
  /// `await_transform` and the task is awaitable by itself, or one of its
  /// `await_transform` overloads names the task's class or template.
  bool awaitableIn(const TaskInfo &Task, const clang::CXXRecordDecl &Promise);

  /// True when \p T is a plain awaiter: awaitable by itself (an `operator
  /// co_await`, or the three `await_*` members) and not a coroutine return
  /// type. A thread pool's schedule(), concurrencpp's resume_on(), a timer's
  /// wait operation: creating one does nothing until it is awaited.
  bool isAwaiter(clang::QualType T);

private:
  bool selfAwaitable(const clang::CXXRecordDecl &Class);
  const clang::ClassTemplateDecl *coroutineTraits();

  const clang::ASTContext &Ctx;
  llvm::DenseMap<const clang::Type *, std::optional<TaskInfo>> Cache;
  std::optional<const clang::ClassTemplateDecl *> Traits;
};

/// The definition to read members from: the definition of \p T's class, or
/// the pattern it would be instantiated from (also for a dependent
/// template specialization such as `awaitable_frame<T, Executor>`).
const clang::CXXRecordDecl *classForMembers(clang::QualType T);

/// A RecursiveASTVisitor over the code a body evaluates when it runs:
/// - nested lambdas are skipped (only their captures' initializers run here);
///   a coroutine lambda is a coroutine of its own, and any other lambda runs
///   wherever it is handed to (a thread, a pool, an algorithm);
/// - local classes are skipped;
/// - unevaluated operands (sizeof, alignof, noexcept, decltype, typeid of a
///   non-polymorphic operand, requires-expressions) are skipped;
/// - the discarded branch of a non-dependent `if constexpr` is skipped.
/// Coroutine machinery (promise calls, await_ready/suspend/resume) is implicit
/// code and not visited; the operand of co_await/co_yield/co_return is.
template <typename Derived>
class EvaluatedCodeVisitor : public clang::RecursiveASTVisitor<Derived> {
  using Base = clang::RecursiveASTVisitor<Derived>;

public:
  explicit EvaluatedCodeVisitor(const clang::ASTContext &Ctx) : Ctx(Ctx) {}

  bool shouldVisitTemplateInstantiations() const { return false; }
  bool shouldVisitImplicitCode() const { return false; }

  bool TraverseLambdaExpr(clang::LambdaExpr *LE) {
    for (clang::Expr *Init : LE->capture_inits())
      if (Init && !this->getDerived().TraverseStmt(Init))
        return false;
    return true;
  }
  bool TraverseCXXRecordDecl(clang::CXXRecordDecl *) { return true; }
  bool TraverseUnaryExprOrTypeTraitExpr(clang::UnaryExprOrTypeTraitExpr *) {
    return true;
  }
  bool TraverseCXXNoexceptExpr(clang::CXXNoexceptExpr *) { return true; }
  bool TraverseRequiresExpr(clang::RequiresExpr *) { return true; }
  bool TraverseConceptSpecializationExpr(clang::ConceptSpecializationExpr *) {
    return true;
  }
  bool TraverseCXXTypeidExpr(clang::CXXTypeidExpr *E) {
    if (E->isTypeOperand() || !E->isPotentiallyEvaluated())
      return true;
    return Base::TraverseCXXTypeidExpr(E);
  }
  // Types hold no evaluated code we care about; decltype() is unevaluated.
#if CLANG_VERSION_MAJOR >= 22
  bool TraverseTypeLoc(clang::TypeLoc, bool = true) { return true; }
#else
  bool TraverseTypeLoc(clang::TypeLoc) { return true; }
#endif
  bool TraverseIfStmt(clang::IfStmt *S) {
    if (!S->isConstexpr() || S->getCond() == nullptr ||
        S->getCond()->isValueDependent())
      return Base::TraverseIfStmt(S);
    std::optional<clang::Stmt *> Taken = S->getNondiscardedCase(Ctx);
    if (!Taken)
      return Base::TraverseIfStmt(S);
    if (S->getInit() && !this->getDerived().TraverseStmt(S->getInit()))
      return false;
    return *Taken == nullptr || this->getDerived().TraverseStmt(*Taken);
  }

protected:
  const clang::ASTContext &Ctx;
};

} // namespace coroscope

#endif // COROSCOPE_CHECKS_COROUTINEKNOWLEDGE_H
