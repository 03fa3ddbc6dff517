//===--- InputFile.h - reading a command's input files --------------------===//
//
// A command's inputs are regular files, pipes, or "-" for standard input,
// and never more than MaxInputBytes: a device such as /dev/zero, a directory
// or a huge file is refused with one line instead of read forever.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_TOOL_INPUTFILE_H
#define COROSCOPE_TOOL_INPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include <cstdint>
#include <memory>

namespace coroscope::tool {

/// The documented limit on one input (docs/tools/coroscope.md).
inline constexpr uint64_t MaxInputBytes = uint64_t(256) << 20;

/// The whole of \p Path; the error is one line naming it.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readInputFile(llvm::StringRef Path, uint64_t Limit = MaxInputBytes);

} // namespace coroscope::tool

#endif // COROSCOPE_TOOL_INPUTFILE_H
