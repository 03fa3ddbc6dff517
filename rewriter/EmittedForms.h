//===--- EmittedForms.h - the text the instrumentation engine writes -----===//
//
// Shared by the engine, which writes these forms between the markers, and by
// --strip, which removes only what is exactly one of them.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_REWRITER_EMITTEDFORMS_H
#define COROSCOPE_REWRITER_EMITTEDFORMS_H

#include "Instrumenter.h"
#include "clang/Basic/LangOptions.h"
#include "llvm/ADT/StringRef.h"

namespace coroscope::rewriter {

inline constexpr llvm::StringLiteral ByteOrderMark = "\xEF\xBB\xBF";
inline constexpr llvm::StringLiteral BodyClose =
    "COROSCOPE_I_END } COROSCOPE_CATCH";
inline constexpr llvm::StringLiteral ReturnPrefix = "COROSCOPE_I_RETURN ";
inline constexpr llvm::StringLiteral SuspensionClose = ")";

/// The language a raw lexer needs to tokenize C++20 as the compiler does:
/// digraphs, raw strings, digit separators, `//` comments.
const clang::LangOptions &rawLangOptions();

} // namespace coroscope::rewriter

#endif // COROSCOPE_REWRITER_EMITTEDFORMS_H
