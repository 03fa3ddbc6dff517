//===--- FactsFile.h - what one translation unit tells the link phase -----===//
//
// A facts file holds what a check learnt from one translation unit, for
// `coroscope link` to combine with the others': the lock orders the TU
// shows, and a summary of every function it defines, keyed by the
// function's USR (the same in every TU): what it acquires, whether it
// blocks, and whom it calls, holding which locks. The text is a pure
// function of the TU, so builds can cache it. Depends on LLVM Support only.
// docs/tools/link.md documents the format.
//
//===----------------------------------------------------------------------===//

#ifndef COROSCOPE_CHECKS_FACTSFILE_H
#define COROSCOPE_CHECKS_FACTSFILE_H

#include "LockGraph.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coroscope::lockgraph {

/// A lock held at a call.
struct HeldAtCall {
  std::string Lock;
  Site HeldAt; // where it was acquired
};

/// What a call passes for one of the callee's bool parameters, when it is
/// known: a constant, or one of the caller's own parameters.
struct ArgumentFact {
  unsigned Index = 0;
  std::optional<bool> Value;
  std::optional<unsigned> Parameter;
};

/// A call from a summarised function to another user function.
struct CallFact {
  std::string Usr;  // the callee's
  std::string Name; // the callee's plain qualified name
  Site At;
  std::vector<ArgumentFact> Arguments; // blocking facts only
  /// The call is co_await's operand: a coroutine callee runs its body here.
  bool Awaited = false;
  std::vector<HeldAtCall> Held; // lock facts only
};

/// A lock a function acquires itself.
struct AcquireFact {
  std::string Lock;
  Site At;
};

/// The first call in a function's body that blocks the thread.
struct BlockFact {
  std::string Subject; // "'std::this_thread::sleep_for'"
  std::string Reason;  // "sleeping"
  Site At;
  /// Set when it blocks only if bool parameter *WhenParameter is WhenValue
  /// (`epoll_wait(fd, &e, 1, wait ? -1 : 0)`).
  std::optional<unsigned> WhenParameter;
  bool WhenValue = true;
};

struct FunctionFact {
  std::string Usr;
  std::string Name;
  Site At;          // the definition
  std::string Hash; // of the definition's text: equal in every TU
  bool Coroutine = false;
  std::optional<BlockFact> Blocks;
  std::vector<AcquireFact> Acquires;
  std::vector<CallFact> Calls;
};

/// Version 3's summaries as the file holds them, each string a number into
/// Strings: the link phase adds them without copying a string. The same
/// shapes serve the link's program, whose numbers index its own table.
struct PackedSite {
  uint32_t File = 0, Line = 0, Column = 0;
};
struct PackedLockAt {
  uint32_t Lock = 0;
  PackedSite At;
};
struct PackedCall {
  uint32_t Usr = 0, Name = 0;
  PackedSite At;
  bool Awaited = false;
  std::vector<ArgumentFact> Arguments;
  std::vector<PackedLockAt> Held;
};
struct PackedBlock {
  uint32_t Subject = 0, Reason = 0;
  PackedSite At;
  std::optional<unsigned> WhenParameter;
  bool WhenValue = true;
};
struct PackedFunction {
  uint32_t Usr = 0, Name = 0;
  llvm::StringRef Hash; // in PackedSummaries::Storage
  PackedSite At;
  bool Coroutine = false;
  std::optional<PackedBlock> Blocks;
  std::vector<PackedLockAt> Acquires;
  std::vector<PackedCall> Calls;
};
struct PackedSummaries {
  std::vector<llvm::StringRef> Strings; // point into Storage
  std::vector<PackedFunction> Functions;
  /// Never changed once read, so copies share it.
  std::shared_ptr<llvm::BumpPtrAllocator> Storage;
};

/// A file the TU was compiled from, with the hash of its contents.
struct InputFact {
  std::string File;
  std::string Hash;
};

/// One facts file: a TU's lock orders and function summaries, from one
/// check (or from a run of the program).
struct Facts {
  /// 1: lock classes and orders only (coroscope-lockfacts, also what the
  /// runtime writes); 3: with inputs and function summaries.
  unsigned Version = 3;
  std::string Check; // the check that wrote it; empty for version 1
  std::string TranslationUnit;
  /// Written by the runtime ("source": "run-time"): orders a run observed.
  bool RunTime = false;
  std::vector<InputFact> Inputs;
  std::vector<std::string> Locks;
  std::vector<Edge> Edges;
  std::vector<FunctionFact> Functions;
  /// Instead of Functions, when read with SummaryForm::Packed.
  PackedSummaries Packed;
};

enum class SummaryForm { Unpacked, Packed };

/// Limits a facts file's reader enforces, so a hostile or broken file
/// cannot exhaust memory through the summaries it declares.
inline constexpr size_t MaxCallsPerFunction = 4096;
inline constexpr size_t MaxHeldPerCall = 64;
inline constexpr size_t MaxArgumentsPerCall = 64;

/// The facts file's text, with a fixed key order, sorted entries and no
/// timestamps, so the same TU always gives the same bytes: version 3 is JSON
/// Lines (a header, then strings and the summaries that refer to them by
/// number), version 1 one JSON document.
std::string writeFacts(const Facts &F);

/// Parses a facts file of version 1 or 3; the error says what is wrong,
/// without the path.
llvm::Expected<Facts> readFacts(llvm::StringRef Text,
                                SummaryForm Form = SummaryForm::Unpacked);

/// The hash facts use for file contents and function text: 16 hex digits.
std::string contentHash(llvm::StringRef Bytes);

} // namespace coroscope::lockgraph

#endif // COROSCOPE_CHECKS_FACTSFILE_H
