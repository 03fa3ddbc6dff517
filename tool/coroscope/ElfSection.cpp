//===- ElfSection.cpp - where the runtime's table is in an ELF file -------===//

#include "ElfSection.h"

#include "coroscope/debug_layout.hpp"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"

#include <cstdio>

using namespace llvm;
using ELF64File = object::ELFFile<object::ELF64LE>;

namespace coroscope::tool {
namespace {

const char *const NoRuntime =
    "has no coroscope runtime (no '%s' section): build it with the runtime "
    "linked (docs/tools/ps.md)";

} // namespace

Expected<std::optional<SectionInFile>> findSection(StringRef Bytes,
                                                   StringRef Name) {
  auto File = ELF64File::create(Bytes);
  if (!File)
    return File.takeError();
  SectionInFile Found;
  Found.PositionIndependent = File->getHeader().e_type == ELF::ET_DYN;
  Found.Entry = File->getHeader().e_entry;
  auto Headers = File->program_headers();
  if (!Headers)
    return Headers.takeError();
  bool SawLoad = false;
  for (const auto &Header : *Headers)
    if (Header.p_type == ELF::PT_LOAD &&
        (!SawLoad ||
         Header.p_vaddr - Header.p_offset < Found.LowestLoadAddress)) {
      Found.LowestLoadAddress = Header.p_vaddr - Header.p_offset;
      SawLoad = true;
    }
  auto Sections = File->sections();
  if (!Sections)
    return Sections.takeError();
  for (const auto &Section : *Sections) {
    auto SectionName = File->getSectionName(Section);
    if (SectionName && *SectionName == Name) {
      Found.Address = Section.sh_addr;
      return Found;
    }
    consumeError(SectionName.takeError());
  }
  return std::nullopt;
}

std::string noRuntime(StringRef What) {
  char Line[256];
  std::snprintf(Line, sizeof Line, NoRuntime, debug_layout::kSection);
  return (What + " " + Line).str();
}

} // namespace coroscope::tool
