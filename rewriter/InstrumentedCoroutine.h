//===--- InstrumentedCoroutine.h - The source hooks seen in LLVM IR -*- C++
//-*-===//
//
// What the IR passes recognize of the source engine's work: the call to
// coroscope::frame's constructor that starts an instrumented coroutine's
// body, with the tracking object's address and the body's site.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H
#define COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H

namespace llvm {
class CallBase;
class Constant;
class Function;
class Module;
class FunctionCallee;
class StringRef;
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

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_INSTRUMENTEDCOROUTINE_H
