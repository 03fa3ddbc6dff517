//===- CoreFileMemory.cpp - an ELF core dump and its executable -----------===//

#include "ElfSection.h"
#include "TargetMemory.h"

#include "coroscope/debug_layout.hpp"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

using namespace llvm;
using ELF64File = object::ELFFile<object::ELF64LE>;

namespace coroscope::tool {
namespace {

class CoreFile final : public TargetMemory {
public:
  struct Segment {
    Range Where;
    std::uint64_t FileOffset, FileSize;
    const MemoryBuffer *From;
  };

  CoreFile(std::string Name, std::unique_ptr<MemoryBuffer> Core,
           std::unique_ptr<MemoryBuffer> Exe)
      : Name(std::move(Name)), Core(std::move(Core)), Exe(std::move(Exe)) {}

  bool read(std::uint64_t Address, void *Buffer, std::size_t Size) override {
    if (Size == 0 || Address + Size < Address)
      return false;
    // The core first: it has the memory as it was; the executable only has
    // what the core left out, which did not change (read-only sections).
    for (const Segment &S : Segments) {
      if (Address < S.Where.Begin || Address + Size > S.Where.End)
        continue;
      std::uint64_t Inside = Address - S.Where.Begin;
      if (Inside + Size > S.FileSize)
        continue;
      StringRef Bytes = S.From->getBuffer();
      if (S.FileOffset + Inside + Size > Bytes.size())
        continue;
      std::memcpy(Buffer, Bytes.data() + S.FileOffset + Inside, Size);
      return true;
    }
    return false;
  }
  std::uint64_t tableAddress() const override { return Table; }
  std::optional<std::int64_t> nowTicks(bool) const override {
    return std::nullopt;
  }
  std::string describe() const override { return "core dump " + Name; }
  std::optional<std::int64_t> takenAtUnixNs() const override { return TakenAt; }
  std::optional<std::int64_t> TakenAt;

  std::string Name;
  std::unique_ptr<MemoryBuffer> Core, Exe;
  std::vector<Segment> Segments; // core segments first
  std::uint64_t Table = 0;
};

} // namespace

Expected<std::unique_ptr<TargetMemory>>
openCoreFile(const std::string &CorePath, const std::string &ExecutablePath) {
  auto CoreBuffer = MemoryBuffer::getFile(CorePath, false, false);
  if (!CoreBuffer)
    return targetError("cannot read core file '" + CorePath +
                       "': " + CoreBuffer.getError().message());
  auto ExeBuffer = MemoryBuffer::getFile(ExecutablePath, false, false);
  if (!ExeBuffer)
    return targetError("cannot read executable '" + ExecutablePath +
                       "': " + ExeBuffer.getError().message());
  auto Target = std::make_unique<CoreFile>(CorePath, std::move(*CoreBuffer),
                                           std::move(*ExeBuffer));

  auto CoreElf = ELF64File::create(Target->Core->getBuffer());
  if (!CoreElf || CoreElf->getHeader().e_type != ELF::ET_CORE) {
    if (!CoreElf)
      consumeError(CoreElf.takeError());
    return targetError("'" + CorePath + "' is not a 64-bit ELF core file");
  }
  auto Section = findSection(Target->Exe->getBuffer(), debug_layout::kSection);
  if (!Section) {
    consumeError(Section.takeError());
    return targetError("'" + ExecutablePath +
                       "' is not a 64-bit ELF executable");
  }
  if (!*Section)
    return targetError(noRuntime("'" + ExecutablePath + "'"));

  auto CoreHeaders = CoreElf->program_headers();
  if (!CoreHeaders) {
    consumeError(CoreHeaders.takeError());
    return targetError("'" + CorePath + "' has a damaged program header table");
  }
  std::optional<std::uint64_t> EntryAtRun;
  for (const auto &Header : *CoreHeaders) {
    if (Header.p_type == ELF::PT_LOAD) {
      Target->Segments.push_back(
          {{Header.p_vaddr, Header.p_vaddr + Header.p_memsz},
           Header.p_offset,
           Header.p_filesz,
           Target->Core.get()});
      continue;
    }
    if (Header.p_type != ELF::PT_NOTE)
      continue;
    Error NoteError = Error::success();
    for (const auto &Note : CoreElf->notes(Header, NoteError)) {
      if (Note.getType() != ELF::NT_AUXV || Note.getName() != "CORE")
        continue;
      // Notes are 4-aligned whatever p_align says (gdb writes 1).
      ArrayRef<uint8_t> Auxv =
          Note.getDesc(std::max<uint64_t>(Header.p_align, 4));
      for (size_t I = 0; I + 16 <= Auxv.size(); I += 16) {
        std::uint64_t Key, Value;
        std::memcpy(&Key, Auxv.data() + I, 8);
        std::memcpy(&Value, Auxv.data() + I + 8, 8);
        if (Key == 9) // AT_ENTRY
          EntryAtRun = Value;
      }
    }
    consumeError(std::move(NoteError));
  }
  if (!EntryAtRun)
    return targetError("'" + CorePath +
                       "' has no auxiliary vector (NT_AUXV): "
                       "cannot tell where the executable was loaded");
  std::uint64_t Bias =
      (*Section)->PositionIndependent ? *EntryAtRun - (*Section)->Entry : 0;
  if ((*Section)->PositionIndependent == false &&
      *EntryAtRun != (*Section)->Entry)
    return targetError("'" + ExecutablePath +
                       "' is not the executable that dumped '" + CorePath +
                       "'");

  auto ExeElf = ELF64File::create(Target->Exe->getBuffer());
  if (!ExeElf)
    return ExeElf.takeError();
  auto ExeHeaders = ExeElf->program_headers();
  if (!ExeHeaders)
    return ExeHeaders.takeError();
  for (const auto &Header : *ExeHeaders)
    if (Header.p_type == ELF::PT_LOAD)
      Target->Segments.push_back(
          {{Header.p_vaddr + Bias, Header.p_vaddr + Bias + Header.p_memsz},
           Header.p_offset,
           Header.p_filesz,
           Target->Exe.get()});
  Target->Table = (*Section)->Address + Bias;
  sys::fs::file_status Status;
  if (!sys::fs::status(CorePath, Status))
    Target->TakenAt = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          Status.getLastModificationTime().time_since_epoch())
                          .count();
  return std::unique_ptr<TargetMemory>(std::move(Target));
}

} // namespace coroscope::tool
