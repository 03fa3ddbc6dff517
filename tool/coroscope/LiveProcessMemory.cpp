//===- LiveProcessMemory.cpp - a running process, read from outside -------===//
//
// process_vm_readv, or /proc/PID/mem where that is missing; never a ptrace
// stop or a signal. Every read is checked against /proc/PID/maps.
//
//===----------------------------------------------------------------------===//

#include "ElfSection.h"
#include "TargetMemory.h"

#include "coroscope/debug_layout.hpp"

#include "llvm/ADT/STLExtras.h"
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

namespace coroscope::tool {
namespace {

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
    // the ranges read last is checked against a fresh copy, at most once a
    // pass, so garbage pointers cost no more than that. A record linked
    // before the pass began lies in memory that copy has.
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
  void beginPass() override { RangesAreCurrent = false; }
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
    if (RangesAreCurrent)
      return false;
    RangesAreCurrent = true;
    std::ifstream Maps("/proc/" + std::to_string(Pid) + "/maps");
    std::vector<Range> Fresh = readableRanges(readMaps(Maps));
    if (Fresh.empty())
      return false;
    Ranges = std::move(Fresh);
    return true;
  }

  int Pid;
  bool RangesAreCurrent = true; // read since the pass began
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
    return targetError("no process " + Twine(Pid));
  std::ifstream MapsFile(Proc + "/maps");
  std::vector<Mapping> Maps;
  if (MapsFile)
    Maps = readMaps(MapsFile);
  if (Maps.empty()) {
    // Reading maps needs the same access as reading memory.
    if (errno == EACCES || errno == EPERM ||
        ::access((Proc + "/maps").c_str(), R_OK) != 0)
      return targetError(permissionAdvice(Pid));
    return targetError("process " + Twine(Pid) +
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
    return targetError(permissionAdvice(Pid));
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
        return targetError(permissionAdvice(Pid));
      if (errno == ESRCH)
        return targetError("process " + Twine(Pid) + " has exited");
      return targetError(
          "cannot read the coroscope table of process " + Twine(Pid) +
          (errno != 0 ? Twine(": ") + std::strerror(errno) : Twine()));
    }
    return std::unique_ptr<TargetMemory>(std::move(Target));
  }
  return targetError(noRuntime("process " + std::to_string(Pid) +
                               (Exe.empty() ? "" : " (" + Exe + ")")));
}

} // namespace coroscope::tool
