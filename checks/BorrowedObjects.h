//===--- BorrowedObjects.h - what a coroutine call borrows ----------------===//
//
// A call that creates a coroutine hands the frame references it does not
// own: reference, view and pointer parameters, the object of a member
// coroutine, and the lambda object whose captures a coroutine lambda reads.
// This finds them at one call site, what each is bound to (a temporary, a
// local, a parameter of the caller), and whether the coroutine really reads
// it: at all (a lazy task), or after its first suspension (an eager one).
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_BORROWEDOBJECTS_H
#define COROSCOPE_CHECKS_BORROWEDOBJECTS_H

#include "BlockingCatalogue.h"
#include "CoroutineKnowledge.h"
#include "LibraryKnowledge.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include <optional>
#include <string>
#include <vector>

namespace coroscope {

/// How the frame refers to an object it does not own.
enum class BorrowKind {
  Parameter, // a reference, view or pointer parameter
  This,      // the object of a member coroutine
  Capture,   // a capture, which lives in the lambda object
};

/// What the borrowed object is in the calling function.
enum class ObjectKind {
  Temporary,       // destroyed at the end of the full-expression
  Local,           // an automatic variable, destroyed at its scope's end
  CallerParameter, // a by-value parameter, destroyed when the caller returns
};

struct Borrow {
  BorrowKind Kind;
  /// "reference parameter 'key'", "'std::string_view' parameter 'name'",
  /// "'this'", "capture 'prefix'".
  std::string Subject;
  ObjectKind Object;
  /// The variable for Local and CallerParameter.
  const clang::VarDecl *Variable = nullptr;
  /// The temporary's type, as written for the user: "std::string".
  std::string TemporaryType;
  /// The argument, or the object of the call.
  clang::SourceLocation BoundAt;
  /// The parameter, for a fix-it that takes it by value.
  const clang::ParmVarDecl *Param = nullptr;
  /// Where the coroutine reads it (after a suspension, for an eager task).
  clang::SourceLocation UsedAt;
};

/// A call that creates a coroutine of \p Task's type, with its borrows.
struct TaskCreation {
  const clang::CallExpr *Call = nullptr;
  /// The coroutine's definition.
  const clang::FunctionDecl *Coroutine = nullptr;
  TaskInfo Task;
  std::vector<Borrow> Borrows;
};

struct BorrowOptions {
  TaskClassifier &Tasks;
  const LibraryBoundary &Library;
  /// Class types that refer to memory they do not own, passed by value.
  const NameList &ViewTypes;
  /// Functions and classes that copy a lambda into the frame they make.
  const NameList &LambdaWrappers;
};

/// The borrows of \p Call, when it calls a coroutine whose definition is
/// visible and returns task \p Task; each one bound to an object whose
/// lifetime the caller decides, and read by the coroutine when the task
/// runs. Nullopt when the callee is not a visible coroutine.
std::optional<TaskCreation> findBorrows(const clang::CallExpr &Call,
                                        const TaskInfo &Task,
                                        const clang::ASTContext &Ctx,
                                        const BorrowOptions &Options);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_BORROWEDOBJECTS_H
