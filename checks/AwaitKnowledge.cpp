//===--- AwaitKnowledge.cpp - What a co_await waits for -------------------===//

#include "AwaitKnowledge.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/StringSet.h"

using namespace clang;

namespace coroscope {
namespace {

/// Awaiting the result of these (called, or named for a variable) is a
/// wait for a turn on an executor.
const llvm::StringSet<> &schedulingOperations() {
  static const llvm::StringSet<> Names = {
      // libcoro
      "coro::thread_pool::schedule", "coro::thread_pool::yield",
      "coro::io_scheduler::schedule", "coro::io_scheduler::yield",
      "coro::scheduler::schedule", "coro::scheduler::yield",
      // cppcoro
      "cppcoro::static_thread_pool::schedule", "cppcoro::io_service::schedule",
      // concurrencpp
      "concurrencpp::resume_on",
      // folly
      "folly::coro::co_reschedule_on_current_executor",
      // Asio, standalone and Boost
      "asio::post", "asio::dispatch", "asio::defer", "boost::asio::post",
      "boost::asio::dispatch", "boost::asio::defer",
      // std::execution and its reference implementation
      "std::execution::schedule", "stdexec::schedule", "exec::schedule",
  };
  return Names;
}

/// Awaiting the result of these is a delay the program asked for.
const llvm::StringSet<> &timerOperations() {
  static const llvm::StringSet<> Names = {
      // libcoro (io_scheduler before 0.12)
      "coro::scheduler::schedule_after", "coro::scheduler::schedule_at",
      "coro::scheduler::yield_for", "coro::scheduler::yield_until",
      "coro::io_scheduler::schedule_after", "coro::io_scheduler::schedule_at",
      "coro::io_scheduler::yield_for", "coro::io_scheduler::yield_until",
      // cppcoro
      "cppcoro::io_service::schedule_after",
      // concurrencpp
      "concurrencpp::timer_queue::make_delay_object",
      // folly
      "folly::coro::sleep", "folly::coro::sleepReturnEarlyOnCancel",
      // Asio's timers, standalone and Boost
      "asio::basic_waitable_timer::async_wait",
      "asio::basic_deadline_timer::async_wait",
      "boost::asio::basic_waitable_timer::async_wait",
      "boost::asio::basic_deadline_timer::async_wait",
  };
  return Names;
}

/// A member `schedule()` or `yield()` with no parameters whose result is a
/// plain awaiter: the shape of a thread pool's or scheduler's own.
bool looksLikeScheduling(const FunctionDecl &FD, QualType Result,
                         TaskClassifier &Tasks) {
  if (!isa<CXXMethodDecl>(FD) || FD.getNumParams() != 0 ||
      !FD.getDeclName().isIdentifier())
    return false;
  StringRef Name = FD.getName();
  return (Name == "schedule" || Name == "yield") && Tasks.isAwaiter(Result);
}

const Expr *peel(const Expr *E) {
  while (true) {
    const Expr *Next = E->IgnoreImplicit()->IgnoreParens();
    // std::move(task), std::forward<T>(task) hand the same object on.
    if (const auto *Call = dyn_cast<CallExpr>(Next))
      if (const FunctionDecl *Callee = Call->getDirectCallee();
          Callee && Call->getNumArgs() == 1 && Callee->isInStdNamespace() &&
          Callee->getDeclName().isIdentifier() &&
          (Callee->getName() == "move" || Callee->getName() == "forward"))
        Next = Call->getArg(0);
    if (Next == E)
      return E;
    E = Next;
  }
}

bool isTask(QualType Type, TaskClassifier &Tasks) {
  return !Type.isNull() && !Type->isDependentType() &&
         (declaresPromiseType(Type) || Tasks.classify(Type));
}

/// `pool.schedule(task)` runs a task there and waits for it: a child, not a
/// turn on the executor.
bool handsOverATask(const Expr *E, TaskClassifier &Tasks) {
  const auto *Call = dyn_cast<CallExpr>(E);
  return Call && llvm::any_of(Call->arguments(), [&](const Expr *Arg) {
           return isTask(Arg->getType(), Tasks);
         });
}

const ValueDecl *producer(const Expr *E) {
  if (const auto *Call = dyn_cast<CallExpr>(E))
    return Call->getCalleeDecl() ? dyn_cast<ValueDecl>(Call->getCalleeDecl())
                                 : nullptr;
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E))
    return Ref->getDecl();
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(E))
    return Construct->getConstructor();
  return nullptr;
}

} // namespace

AwaitedOperation classifyAwaitOperand(const Expr *Operand,
                                      TaskClassifier &Tasks,
                                      const LibraryBoundary &Library) {
  if (!Operand)
    return AwaitedOperation::Event;
  if (Operand->isTypeDependent())
    return AwaitedOperation::Child;
  const Expr *E = peel(Operand);
  if (E->isTypeDependent())
    return AwaitedOperation::Child;
  QualType Type = E->getType();
  const ValueDecl *Made = producer(E);
  // The delay of a timer task is the coroutine's it starts, when that one is
  // the project's and tracked.
  if (Made && timerOperations().contains(plainQualifiedName(*Made)))
    return isTask(Type, Tasks) && !Library.isLibraryCode(*Made)
               ? AwaitedOperation::TimerTask
               : AwaitedOperation::Timer;
  if (Made && !handsOverATask(E, Tasks) &&
      schedulingOperations().contains(plainQualifiedName(*Made)))
    return AwaitedOperation::Schedule;
  if (const auto *FD = dyn_cast_or_null<FunctionDecl>(Made);
      FD && looksLikeScheduling(*FD, Type, Tasks))
    return AwaitedOperation::Schedule;
  if (!isTask(Type, Tasks))
    return AwaitedOperation::Event;
  // A task a library function makes runs the library's coroutine, which is
  // not tracked (Asio's operations with use_awaitable): nothing starts.
  if (isa_and_nonnull<FunctionDecl>(Made) && Library.isLibraryCode(*Made))
    return AwaitedOperation::Event;
  return AwaitedOperation::Child;
}

std::string awaitResultOwner(const CoawaitExpr &Await, TaskClassifier &Tasks,
                             const ASTContext &Ctx) {
  const Expr *Operand = Await.getOperand();
  const Expr *Resume = Await.getResumeExpr();
  if (!Operand || !Resume || !Resume->isGLValue())
    return "";
  const Expr *Awaited = skipTransparent(Operand);
  if (!Awaited || (!Awaited->isPRValue() && !isa<MaterializeTemporaryExpr>(Awaited)))
    return "";
  PrintingPolicy Policy(Ctx.getLangOpts());
  Policy.SuppressTagKeyword = true;
  QualType Type = Operand->getType().getNonReferenceType();
  const std::string Name =
      "'" + Type.getCanonicalType().getUnqualifiedType().getAsString(Policy) +
      "'";
  if (std::optional<TaskInfo> Task = Tasks.classify(Type)) {
    // `task<T &>` returns a reference it does not own.
    if (const auto *Spec =
            dyn_cast_or_null<ClassTemplateSpecializationDecl>(Task->Class))
      for (const TemplateArgument &Arg : Spec->getTemplateArgs().asArray())
        if (Arg.getKind() == TemplateArgument::Type &&
            (Arg.getAsType()->isReferenceType() ||
             Arg.getAsType()->isPointerType()))
          return "";
    return "task " + Name;
  }
  const auto *Call = dyn_cast<CXXMemberCallExpr>(Resume->IgnoreImplicit());
  const CXXMethodDecl *Method = Call ? Call->getMethodDecl() : nullptr;
  const FunctionDecl *Definition = Method ? Method->getDefinition() : nullptr;
  const auto *Body =
      Definition ? dyn_cast_or_null<CompoundStmt>(Definition->getBody())
                 : nullptr;
  if (!Body || Body->size() != 1)
    return "";
  const auto *Return = dyn_cast<ReturnStmt>(Body->body_front());
  const auto *Member =
      Return && Return->getRetValue()
          ? dyn_cast<MemberExpr>(skipTransparent(Return->getRetValue()))
          : nullptr;
  const auto *Field =
      Member ? dyn_cast<FieldDecl>(Member->getMemberDecl()) : nullptr;
  if (!Field || !isa<CXXThisExpr>(Member->getBase()->IgnoreImplicit()) ||
      Field->getType()->isReferenceType() || Field->getType()->isPointerType())
    return "";
  return "awaitable " + Name;
}


} // namespace coroscope
