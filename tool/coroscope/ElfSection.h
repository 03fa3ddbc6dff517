//===- ElfSection.h - where the runtime's table is in an ELF file ---------===//
#ifndef COROSCOPE_TOOL_ELFSECTION_H
#define COROSCOPE_TOOL_ELFSECTION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace coroscope::tool {

/// Where an ELF file's section is, as an address in the file's own
/// numbering, with what it takes to place it in memory: the lowest load
/// address, whether the file is position-independent, and its entry.
struct SectionInFile {
  std::uint64_t Address = 0;
  std::uint64_t LowestLoadAddress = 0;
  bool PositionIndependent = false;
  std::uint64_t Entry = 0;
};

/// The section \p Name of the 64-bit ELF file \p Bytes, nullopt when it has
/// none, or an error when it is not such a file.
llvm::Expected<std::optional<SectionInFile>> findSection(llvm::StringRef Bytes,
                                                         llvm::StringRef Name);

/// "WHAT has no coroscope runtime (no 'coroscope_debug' section): ...".
std::string noRuntime(llvm::StringRef What);

} // namespace coroscope::tool

#endif
