//===--- InstrumentedCoroutine.h - The source hooks seen in LLVM IR -*- C++
//-*-===//
//
// What the IR passes recognize of the source engine's work: the call to
// coroscope::frame's constructor that starts an instrumented coroutine's
// body, with the tracking object's address and the body's site; and how
// every IR pass calls the runtime, which may not be linked.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H
#define COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"

namespace llvm {
class CallBase;
class Constant;
class Function;
class Module;
class FunctionCallee;
class Instruction;
class StringRef;
class Value;
} // namespace llvm

namespace coroscope::rewriter {

struct BodyStart {
  llvm::CallBase *Constructor = nullptr; // frame::frame(this, const site *)
  llvm::Constant *Site = nullptr;        // the body's site
};

/// The body start of \p F, a presplit coroutine, when the source engine
/// instrumented it. The first constructor is the body's; a nested
/// coroutine lambda is a function of its own.
BodyStart findBodyStart(llvm::Function &F);

/// `void Name(ptr...)` with \p Pointers parameters, declared extern_weak in
/// \p M unless it is defined there: the runtime's entry points are optional.
llvm::FunctionCallee weakHook(llvm::Module &M, llvm::StringRef Name,
                              unsigned Pointers = 1);

/// A private constant C string of \p Text in \p M, made once per text
/// (\p Made holds the ones made so far): the strings of sites.
llvm::Constant *privateString(llvm::Module &M,
                              llvm::StringMap<llvm::Constant *> &Made,
                              llvm::StringRef Text);

/// `if (&Hook) Hook(Arguments...)` before \p Before: every argument a
/// pointer, and the hook weak (weakHook). With \p WarnIfMissing, `else`
/// says once per program that the runtime is not linked, as the source
/// engine's header does (unless COROSCOPE is 0 or off).
void callIfLinked(llvm::Module &M, llvm::StringRef Hook,
                  llvm::ArrayRef<llvm::Value *> Arguments,
                  llvm::Instruction *Before, bool WarnIfMissing = false);

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H
