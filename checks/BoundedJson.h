//===--- BoundedJson.h - parsing JSON from files nobody vouches for -------===//
//
// llvm::json::parse recurses once per nesting level, so a file of a million
// '[' overflows the stack. Facts files and reports are read through this
// instead: nesting is measured first, without recursion, and limited.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_BOUNDEDJSON_H
#define COROSCOPE_CHECKS_BOUNDEDJSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace coroscope {

/// Deeper than any document coroscope writes (reports nest 6 levels).
inline constexpr unsigned MaxJsonDepth = 64;

/// Parses \p Text; a document nested deeper than \p MaxDepth is an error
/// naming the byte where the limit was crossed.
llvm::Expected<llvm::json::Value>
parseBoundedJson(llvm::StringRef Text, unsigned MaxDepth = MaxJsonDepth);

} // namespace coroscope

#endif // COROSCOPE_CHECKS_BOUNDEDJSON_H
