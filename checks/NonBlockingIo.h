//===--- NonBlockingIo.h - POSIX I/O on descriptors that do not block -----===//
//
// A POSIX descriptor call (read, recv, send, accept, connect, ...) blocks
// only on a blocking descriptor. Code in the readiness style makes its
// descriptors non-blocking and suspends on EAGAIN; its calls are not
// blocking calls.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_NONBLOCKINGIO_H
#define COROSCOPE_CHECKS_NONBLOCKINGIO_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"

namespace coroscope {

/// True when \p Call, made in \p Function, is a POSIX descriptor call that
/// visibly does not block:
/// - its flags include MSG_DONTWAIT;
/// - \p Function tests for EAGAIN, EWOULDBLOCK or EINPROGRESS;
/// - its descriptor is made non-blocking where this code creates or
///   configures it (SOCK_NONBLOCK, O_NONBLOCK, fcntl, ioctl FIONBIO);
/// - or its descriptor is awaited for readiness: passed to a co_await or
///   to a call that returns an awaitable.
/// "This code" is \p Function for a local descriptor, and every member
/// function of the class defined in this TU for a data member.
bool isNonBlockingDescriptorCall(const clang::CallExpr &Call,
                                 const clang::FunctionDecl &Function,
                                 const clang::ASTContext &Ctx);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_NONBLOCKINGIO_H
