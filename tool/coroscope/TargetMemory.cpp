//===- TargetMemory.cpp - another process's memory, read from outside -----===//

#include "TargetMemory.h"

#include "coroscope/debug_layout.hpp"

#include "llvm/ADT/STLExtras.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

using namespace llvm;
using ELF64File = object::ELFFile<object::ELF64LE>;

namespace coroscope::tool {
namespace {

Error fail(const Twine &Message) {
  return createStringError(inconvertibleErrorCode(), Message);
}

struct Range {
  std::uint64_t Begin, End;
};

bool contains(const std::vector<Range> &Ranges, std::uint64_t Address,
              std::size_t Size) {
  if (Size == 0 || Address + Size < Address)
    return false;
  auto It =
      llvm::upper_bound(Ranges, Address, [](std::uint64_t A, const Range &R) {
        return A < R.Begin;
      });
  if (It == Ranges.begin())
    return false;
  --It;
  return Address + Size <= It->End;
}

/// Where an ELF file's section \p Name is, as an address in the file's own
/// numbering, and the file's type and entry.
struct SectionInFile {
  std::uint64_t Address = 0;
  std::uint64_t LowestLoadAddress = 0;
  bool PositionIndependent = false;
  std::uint64_t Entry = 0;
};

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

const char *const NoRuntime =
    "has no coroscope runtime (no '%s' section): build it with the runtime "
    "linked (docs/tools/ps.md)";

std::string noRuntime(StringRef What) {
  char Line[256];
  std::snprintf(Line, sizeof Line, NoRuntime, debug_layout::kSection);
  return (What + " " + Line).str();
}

std::string readFirstLine(const std::string &Path) {
  std::ifstream In(Path);
  std::string Line;
  std::getline(In, Line);
  return Line;
}

/// The one line that says which permission reading \p Pid needs.
std::string permissionAdvice(int Pid) {
  std::string Scope = readFirstLine("/proc/sys/kernel/yama/ptrace_scope");
  std::string Line = "cannot read process " + std::to_string(Pid) +
                     ": permission denied; run coroscope as the process's "
                     "user";
  if (Scope == "1")
    Line += " with kernel.yama.ptrace_scope=0 (it is 1: only a parent may "
            "read its child; 'sysctl kernel.yama.ptrace_scope=0')";
  else if (Scope == "2" || Scope == "3")
    Line += " and CAP_SYS_PTRACE (kernel.yama.ptrace_scope is " + Scope + ")";
  Line += ", or with CAP_SYS_PTRACE (root; in a container, 'docker run "
          "--cap-add SYS_PTRACE')";
  return Line;
}

// --- Live process -----------------------------------------------------------

struct Mapping {
  Range Where;
  std::uint64_t Offset;
  bool Readable;
  std::string Path;
};

std::vector<Mapping> readMaps(std::istream &In);

std::vector<Range> readableRanges(const std::vector<Mapping> &Maps) {
  std::vector<Range> Readable;
  for (const Mapping &M : Maps)
    if (M.Readable)
      Readable.push_back(M.Where);
  llvm::sort(Readable,
             [](const Range &A, const Range &B) { return A.Begin < B.Begin; });
  return Readable;
}

class LiveProcess final : public TargetMemory {
public:
  LiveProcess(int Pid, std::vector<Range> Ranges, std::uint64_t Table)
      : Pid(Pid), Ranges(std::move(Ranges)), Table(Table) {}

  bool read(std::uint64_t Address, void *Buffer, std::size_t Size) override {
    // The target maps memory as it runs (its heap grows): an address past
    // the ranges read last is checked against a fresh copy, at most every
    // few milliseconds, so garbage pointers cost no more than that.
    if (!contains(Ranges, Address, Size) &&
        (!refreshRanges() || !contains(Ranges, Address, Size)))
      return false;
    if (!UseProcMem) {
      iovec Local{Buffer, Size};
      iovec Remote{reinterpret_cast<void *>(Address), Size};
      ssize_t Got = ::process_vm_readv(Pid, &Local, 1, &Remote, 1, 0);
      if (Got == static_cast<ssize_t>(Size))
        return true;
      if (Got >= 0 || errno != ENOSYS)
        return false;
      UseProcMem = true; // a kernel without it
    }
    if (MemFd < 0)
      MemFd = ::open(("/proc/" + std::to_string(Pid) + "/mem").c_str(),
                     O_RDONLY | O_CLOEXEC);
    return MemFd >= 0 &&
           ::pread(MemFd, Buffer, Size, static_cast<off_t>(Address)) ==
               static_cast<ssize_t>(Size);
  }
  std::uint64_t tableAddress() const override { return Table; }
  std::optional<std::int64_t> nowTicks(bool UseTsc) const override {
#if defined(__x86_64__) || defined(__i386__)
    if (UseTsc)
      return static_cast<std::int64_t>(__rdtsc());
#else
    if (UseTsc)
      return std::nullopt;
#endif
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::string describe() const override {
    return "process " + std::to_string(Pid);
  }
  ~LiveProcess() override {
    if (MemFd >= 0)
      ::close(MemFd);
  }

private:
  bool refreshRanges() {
    auto Now = std::chrono::steady_clock::now();
    if (Now - LastRefresh < std::chrono::milliseconds(5))
      return false;
    LastRefresh = Now;
    std::ifstream Maps("/proc/" + std::to_string(Pid) + "/maps");
    std::vector<Range> Fresh = readableRanges(readMaps(Maps));
    if (Fresh.empty())
      return false;
    Ranges = std::move(Fresh);
    return true;
  }

  int Pid;
  std::chrono::steady_clock::time_point LastRefresh;
  std::vector<Range> Ranges;
  std::uint64_t Table;
  bool UseProcMem = false;
  int MemFd = -1;
};

std::vector<Mapping> readMaps(std::istream &In) {
  std::vector<Mapping> Maps;
  std::string Line;
  while (std::getline(In, Line) && Maps.size() < 1'000'000) {
    std::istringstream Fields(Line);
    std::string Span, Perms, Offset, Device, Inode, Path;
    Fields >> Span >> Perms >> Offset >> Device >> Inode;
    std::getline(Fields >> std::ws, Path);
    auto Dash = Span.find('-');
    if (Dash == std::string::npos || Perms.empty())
      continue;
    Mapping M;
    M.Where.Begin = std::strtoull(Span.substr(0, Dash).c_str(), nullptr, 16);
    M.Where.End = std::strtoull(Span.substr(Dash + 1).c_str(), nullptr, 16);
    M.Offset = std::strtoull(Offset.c_str(), nullptr, 16);
    M.Readable = Perms[0] == 'r';
    M.Path = Path;
    Maps.push_back(std::move(M));
  }
  return Maps;
}

} // namespace

Expected<std::unique_ptr<TargetMemory>> openLiveProcess(int Pid) {
  std::string Proc = "/proc/" + std::to_string(Pid);
  if (::access(Proc.c_str(), F_OK) != 0)
    return fail("no process " + Twine(Pid));
  std::ifstream MapsFile(Proc + "/maps");
  std::vector<Mapping> Maps;
  if (MapsFile)
    Maps = readMaps(MapsFile);
  if (Maps.empty()) {
    // Reading maps needs the same access as reading memory.
    if (errno == EACCES || errno == EPERM ||
        ::access((Proc + "/maps").c_str(), R_OK) != 0)
      return fail(permissionAdvice(Pid));
    return fail("process " + Twine(Pid) +
                " has no memory to read (a zombie or a kernel thread)");
  }
  std::vector<Range> Readable = readableRanges(Maps);

  // The executable first, then every other mapped file: the runtime may be
  // in a shared library. A file is opened through /proc so that one deleted
  // or in another mount namespace is still found.
  char ExePath[4096] = {};
  ssize_t ExeLength =
      ::readlink((Proc + "/exe").c_str(), ExePath, sizeof ExePath - 1);
  if (ExeLength < 0 && (errno == EACCES || errno == EPERM))
    return fail(permissionAdvice(Pid));
  std::string Exe = ExeLength > 0 ? std::string(ExePath, ExeLength) : "";
  std::vector<std::string> Files;
  if (!Exe.empty())
    Files.push_back(Exe);
  for (const Mapping &M : Maps)
    if (!M.Path.empty() && M.Path.front() == '/' &&
        llvm::find(Files, M.Path) == Files.end() && Files.size() < 4096)
      Files.push_back(M.Path);

  for (const std::string &Path : Files) {
    std::string Open = Path == Exe ? Proc + "/exe" : Proc + "/root" + Path;
    auto Buffer = MemoryBuffer::getFile(Open, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
    if (!Buffer)
      continue;
    auto Section = findSection((*Buffer)->getBuffer(), debug_layout::kSection);
    if (!Section) {
      consumeError(Section.takeError());
      continue;
    }
    if (!*Section)
      continue;
    std::uint64_t Bias = 0;
    if ((*Section)->PositionIndependent) {
      auto Base = llvm::find_if(Maps, [&](const Mapping &M) {
        return M.Path == Path && M.Offset == 0;
      });
      if (Base == Maps.end())
        continue;
      Bias = Base->Where.Begin - (*Section)->LowestLoadAddress;
    }
    std::uint64_t Table = (*Section)->Address + Bias;
    auto Target =
        std::make_unique<LiveProcess>(Pid, std::move(Readable), Table);
    char Probe;
    errno = 0;
    if (!Target->read(Table, &Probe, 1)) {
      if (errno == EPERM || errno == EACCES)
        return fail(permissionAdvice(Pid));
      if (errno == ESRCH)
        return fail("process " + Twine(Pid) + " has exited");
      return fail("cannot read the coroscope table of process " + Twine(Pid) +
                  (errno != 0 ? Twine(": ") + std::strerror(errno) : Twine()));
    }
    return std::unique_ptr<TargetMemory>(std::move(Target));
  }
  return fail(noRuntime("process " + std::to_string(Pid) +
                        (Exe.empty() ? "" : " (" + Exe + ")")));
}

// --- Core file --------------------------------------------------------------

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
    return fail("cannot read core file '" + CorePath +
                "': " + CoreBuffer.getError().message());
  auto ExeBuffer = MemoryBuffer::getFile(ExecutablePath, false, false);
  if (!ExeBuffer)
    return fail("cannot read executable '" + ExecutablePath +
                "': " + ExeBuffer.getError().message());
  auto Target = std::make_unique<CoreFile>(CorePath, std::move(*CoreBuffer),
                                           std::move(*ExeBuffer));

  auto CoreElf = ELF64File::create(Target->Core->getBuffer());
  if (!CoreElf || CoreElf->getHeader().e_type != ELF::ET_CORE) {
    if (!CoreElf)
      consumeError(CoreElf.takeError());
    return fail("'" + CorePath + "' is not a 64-bit ELF core file");
  }
  auto Section = findSection(Target->Exe->getBuffer(), debug_layout::kSection);
  if (!Section) {
    consumeError(Section.takeError());
    return fail("'" + ExecutablePath + "' is not a 64-bit ELF executable");
  }
  if (!*Section)
    return fail(noRuntime("'" + ExecutablePath + "'"));

  auto CoreHeaders = CoreElf->program_headers();
  if (!CoreHeaders) {
    consumeError(CoreHeaders.takeError());
    return fail("'" + CorePath + "' has a damaged program header table");
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
    return fail("'" + CorePath +
                "' has no auxiliary vector (NT_AUXV): "
                "cannot tell where the executable was loaded");
  std::uint64_t Bias =
      (*Section)->PositionIndependent ? *EntryAtRun - (*Section)->Entry : 0;
  if ((*Section)->PositionIndependent == false &&
      *EntryAtRun != (*Section)->Entry)
    return fail("'" + ExecutablePath + "' is not the executable that dumped '" +
                CorePath + "'");

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
