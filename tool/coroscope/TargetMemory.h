//===- TargetMemory.h - another process's memory, read from outside -------===//
//
// What `coroscope ps`, `pstree` and `top` read: a live process (through
// process_vm_readv, or /proc/PID/mem where that is missing), never stopped,
// signalled or written; or an ELF core file with the executable it came
// from. Every read is checked against the target's mapped ranges first.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_TARGETMEMORY_H
#define COROSCOPE_TOOL_TARGETMEMORY_H

#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace coroscope::tool {

/// A one-line error of a target that cannot be read.
inline llvm::Error targetError(const llvm::Twine &Message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Message);
}

/// A range of the target's addresses, [Begin, End).
struct Range {
  std::uint64_t Begin, End;
};

class TargetMemory {
public:
  virtual ~TargetMemory() = default;
  /// Reads \p Size bytes at \p Address; false when any of them is outside
  /// the target's readable ranges or cannot be read now.
  virtual bool read(std::uint64_t Address, void *Buffer, std::size_t Size) = 0;
  /// A new pass over the target's lists begins: anything mapped before now
  /// must be readable during it, however recently the target mapped it.
  virtual void beginPass() {}
  /// Where the runtime's published table (coroscope/debug_layout.hpp) is.
  virtual std::uint64_t tableAddress() const = 0;
  /// The target's clock now, in its ticks, when it can be read from here
  /// (a live process on this machine); nullopt for a core.
  virtual std::optional<std::int64_t> nowTicks(bool UseTsc) const = 0;
  /// When the memory was taken, by the wall clock (Unix ns), for a core
  /// dump: its file's modification time.
  virtual std::optional<std::int64_t> takenAtUnixNs() const {
    return std::nullopt;
  }
  /// "process 1234", "core dump core.1234".
  virtual std::string describe() const = 0;
};

/// The process \p Pid, or one line that says why it cannot be read (no
/// such process, no runtime in it, which permission is missing).
llvm::Expected<std::unique_ptr<TargetMemory>> openLiveProcess(int Pid);

/// An ELF core file and the executable that dumped it; the executable
/// supplies what the core left out (read-only sections: the sites).
llvm::Expected<std::unique_ptr<TargetMemory>>
openCoreFile(const std::string &CorePath, const std::string &ExecutablePath);

} // namespace coroscope::tool

#endif
