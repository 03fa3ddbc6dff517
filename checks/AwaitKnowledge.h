//===--- AwaitKnowledge.h - What a co_await waits for -----------*- C++ -*-===//
//
// The instrumentation marks each await site with what it waits for, so
// that the runtime can tell a hang from a child's work or from queueing:
// - a child: the operand starts a coroutine of the project, which the
//   awaiting one waits for (`co_await fetch(id)`, a task variable);
// - a turn on an executor: `pool.schedule()`, `resume_on(ex)`,
//   `asio::post(ex, use_awaitable)`, folly's co_reschedule_on_current_executor;
// - a timer: a delay the program asked for (`timer.async_wait(...)`,
//   folly's `sleep`), however long; a timer task when a coroutine the
//   operand starts makes the delay (libcoro's `yield_for`);
// - an event: anything else (I/O, locks, events, library operations
//   such as Asio's `async_read(..., use_awaitable)`, whose awaitable is made
//   by library code).
// The answer depends only on declarations, never on which definitions a
// translation unit happens to see, so a header is instrumented the same
// way by every translation unit that includes it.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_AWAITKNOWLEDGE_H
#define COROSCOPE_CHECKS_AWAITKNOWLEDGE_H

#include "CoroutineKnowledge.h"
#include "LibraryKnowledge.h"

#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"
#include <string>

namespace coroscope {

enum class AwaitedOperation { Event, Child, Schedule, Timer, TimerTask };

/// What awaiting \p Operand (the operand as written, before any
/// await_transform) waits for. An operand whose type depends on a template
/// parameter is taken for a child: only an instantiation could tell, and
/// the runtime checks that a child really starts there.
AwaitedOperation classifyAwaitOperand(const clang::Expr *Operand,
                                      TaskClassifier &Tasks,
                                      const LibraryBoundary &Library);

/// The temporary that the result of \p Await refers into, for a reference
/// bound to it: "task 'cppcoro::task<std::string>'", "awaitable 'boxed'";
/// "" when there is none. The result is a reference, the operand is a
/// temporary, and the reference points into it: the operand is a task (its
/// result lives in the task's frame, unless the task's result type is a
/// reference or a pointer), or the awaiter returns one of its own data
/// members.
std::string awaitResultOwner(const clang::CoawaitExpr &Await,
                             TaskClassifier &Tasks,
                             const clang::ASTContext &Ctx);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_AWAITKNOWLEDGE_H
