//===- RegistryReader.h - the live coroutines of another process ----------===//
//
// Reads the runtime's registry through its published table
// (coroscope/debug_layout.hpp) from a TargetMemory: every size, count and
// pointer is checked before it is used. A shard whose list changed during
// the walk is read again; after the retries, only the records that held
// still while they were copied are kept, and the shard is counted.
//
//===----------------------------------------------------------------------===//
#ifndef COROSCOPE_TOOL_REGISTRYREADER_H
#define COROSCOPE_TOOL_REGISTRYREADER_H

#include "TargetMemory.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace coroscope::tool {

struct SiteInfo {
  std::string Function, File;
  std::uint32_t Line = 0, Column = 0;
  std::uint8_t Kind = 0, WaitsFor = 0;
  bool Known = false;
  /// "file:line:col", or "?" when unknown.
  std::string where() const;
  /// "event", "child", "schedule", "timer".
  std::string waitsForName() const;
};

/// The site every unknown one points to.
const SiteInfo &unknownSite();

/// Sites point into their snapshot's pool (Snapshot::Sites): a site is
/// read, and its strings kept, once however many rows name it.
struct CoroutineRow {
  std::uint64_t Id = 0, Address = 0;
  std::string Name;                      // set_name(), else empty
  const SiteInfo *Body = &unknownSite(); // the function
  std::string State;
  const SiteInfo *Site =
      &unknownSite(); // where it waits, or where its running step began
  double StateMs = 0, AgeMs = 0, RunningMs = 0;
  std::uint32_t Suspensions = 0;
  std::uint32_t ThreadIndex = 0;
  std::int32_t Tid = 0; // the thread it runs on, or last ran on
  bool Awaited = false;
  std::uint64_t ParentId = 0;  // the awaiter when Awaited
  std::uint64_t WaitsOn = 0;   // coroscope::waiting_for(), this suspension
  std::uint64_t CreatorId = 0; // the spawn parent
  const SiteInfo *CreatorBody = &unknownSite(), *CreationSite = &unknownSite();
  bool SlowStep = false; // running longer than COROSCOPE_SLOW_MS now
  bool Hang = false;     // waiting for an event longer than COROSCOPE_HANG_MS
  std::vector<std::string> Holds;     // lock classes, in acquisition order
  std::string WaitsForLock;           // the async lock it waits for, if any
  std::uint64_t LockHolder = 0;       // its holder; 0 for a thread or unknown
  std::uint32_t LockHolderThread = 0; // the holder thread's index, or 0
  std::int64_t SinceTicks = 0, StartTicks = 0; // the target's clock
  std::uint64_t awaiter() const { return Awaited ? ParentId : 0; }
  /// The name, or "function".
  std::string label() const;
};

struct ThreadRow {
  std::uint32_t Index = 0;
  std::int32_t Tid = 0;
  /// Locks taken outside any coroutine, in acquisition order.
  std::vector<std::string> Holds;
  /// The lock it is blocked on, if any; where, for how long, and who holds
  /// it (a coroutine's id, else a thread's index, else neither is known).
  std::string WaitsForLock, WaitsAt;
  double WaitingMs = 0;
  std::int64_t WaitingSinceTicks = 0;
  std::uint64_t LockHolder = 0;
  std::uint32_t LockHolderThread = 0;
  bool hasLocks() const { return !Holds.empty() || !WaitsForLock.empty(); }
};

struct Snapshot {
  std::string Target;
  // Owns the sites the rows point to; shared so that copies of the rows
  // may outlive a moved snapshot.
  std::shared_ptr<std::deque<SiteInfo>> Sites =
      std::make_shared<std::deque<SiteInfo>>();
  std::vector<CoroutineRow> Coroutines;
  std::vector<ThreadRow> Threads;
  bool Started = true; // false: the runtime has tracked nothing yet
  // Shards whose lists changed during every read: their rows are the
  // records that held still while copied, each consistent, but the set may
  // miss coroutines that started or ended meanwhile.
  unsigned TornShards = 0;
  unsigned UnreadableShards = 0;
  unsigned ShardCount = 0;
  unsigned MalformedRecords = 0; // failed a check in a stable shard
  bool Truncated = false;        // more than the limit
  // A core: what its times end at ("the watchdog's last heartbeat", "the
  // core file's time", "the last event recorded"); empty for a live read.
  std::string TimesEndAt;
  double SlowMs = 0, HangMs = 0;
};

struct ReadOptions {
  unsigned Retries = 3;
  std::size_t Limit = 1'000'000;
};

/// A snapshot, or one line saying why none can be taken (no table, another
/// layout version, a damaged table).
llvm::Expected<Snapshot> readSnapshot(TargetMemory &Memory,
                                      const ReadOptions &Options);

} // namespace coroscope::tool

#endif
