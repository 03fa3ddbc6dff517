//===- RegistryReader.cpp - the live coroutines of another process --------===//

#include "RegistryReader.h"

#include "coroscope/coroscope.hpp"
#include "coroscope/debug_layout.hpp"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstring>
#include <thread>

using namespace llvm;
namespace layout = coroscope::debug_layout;

namespace coroscope::tool {

std::string SiteInfo::where() const {
  if (!Known)
    return "?";
  return File + ":" + std::to_string(Line) + ":" + std::to_string(Column);
}

std::string SiteInfo::waitsForName() const {
  const char *Name = awaits_name(static_cast<awaits>(WaitsFor));
  return Name != nullptr ? Name : "event";
}

std::string CoroutineRow::label() const {
  return Name.empty() ? Body->Function : Name;
}

const SiteInfo &unknownSite() {
  static const SiteInfo Unknown;
  return Unknown;
}

namespace {

Error fail(const Twine &Message) {
  return createStringError(inconvertibleErrorCode(), Message);
}

// Bounds on what a table may claim; anything outside is a damaged table.
constexpr std::uint32_t MaxShards = 4096, MaxRecord = 1 << 16, MaxSite = 4096,
                        MaxThreads = 1 << 16, MaxString = 1024,
                        MaxSites = 1 << 16, MaxHeldLocks = 64;

/// \p Now - \p Then, saturated: a damaged record's ticks may be anything.
std::int64_t elapsed(std::int64_t Now, std::int64_t Then) {
  std::int64_t Difference;
  if (__builtin_sub_overflow(Now, Then, &Difference))
    return Then < 0 ? INT64_MAX : INT64_MIN;
  return Difference;
}

/// DenseMap's two reserved keys (~0 and ~0 - 1): as an address or an id
/// read from the target, one is damage (ids count up from 1, and no record
/// fits there); used as a key, it would find an empty slot.
bool reservedKey(std::uint64_t Value) {
  return Value == DenseMapInfo<std::uint64_t>::getEmptyKey() ||
         Value == DenseMapInfo<std::uint64_t>::getTombstoneKey();
}

enum class ShardRead { Stable, Changed, Unreadable };

class Reader {
public:
  Reader(TargetMemory &Memory, const ReadOptions &Options)
      : Memory(Memory), Options(Options) {}

  Expected<Snapshot> run();

private:
  Error readTable();
  bool readPointerAt(std::uint64_t Address, std::uint64_t &Value) {
    return Memory.read(Address, &Value, 8);
  }
  template <typename T>
  T fieldOf(const std::vector<char> &Record, layout::field F) const {
    T Value{};
    std::memcpy(&Value, Record.data() + F.offset,
                std::min<std::size_t>(sizeof(T), F.size));
    return Value;
  }
  std::string readString(std::uint64_t Address);
  const SiteInfo *site(std::uint64_t Address);
  /// The class a lock site names, or "" when unreadable.
  std::string lockClass(std::uint64_t LockSite);
  /// The classes of the locks in the held set at \p Held.
  void readHeld(std::uint64_t Held, std::vector<std::string> &Holds);
  /// Who holds \p Mutex, by the runtime's owner table: false when no slot
  /// says.
  bool lockOwner(std::uint64_t Mutex, std::uint64_t &Coroutine,
                 std::uint32_t &Thread, std::uint64_t &At);
  /// The locks \p Row's record holds and the one it waits for.
  void readLocks(const std::vector<char> &Record, CoroutineRow &Row);
  /// A thread's locks, from its record at \p Node.
  void readThreadLocks(std::uint64_t Node, ThreadRow &Row);
  void readThreads(Snapshot &S);
  /// One shard's rows. \p Settle: keep only the rows whose records held
  /// still while they were copied, for a list that keeps changing.
  ShardRead readShard(unsigned Index, bool Settle,
                      std::vector<CoroutineRow> &Rows,
                      std::vector<std::uint64_t> &Resumers,
                      unsigned &Malformed);
  bool rowFrom(const std::vector<char> &Record, unsigned Shard,
               CoroutineRow &Row, std::uint64_t &Resumer);
  double ticksToMs(std::int64_t Ticks) const {
    return Ticks <= 0 ? 0 : double(Ticks) * NsPerTick / 1e6;
  }

  TargetMemory &Memory;
  const ReadOptions &Options;
  layout::table Table{};
  double NsPerTick = 1;
  std::int64_t Now = 0, SlowTicks = INT64_MAX, HangTicks = INT64_MAX;
  bool NowKnown = false;
  std::int64_t LatestSince = 0;
  DenseMap<std::uint64_t, const SiteInfo *> Sites; // null: unreadable
  DenseMap<std::uint64_t, std::string> LockClasses; // by lock site
  std::deque<SiteInfo> *Pool = nullptr;
  std::vector<ThreadRow> ThreadsByCurrent;
  DenseMap<std::uint64_t, unsigned> ThreadOfCurrent; // frame -> thread index
};

bool validField(layout::field F, std::uint32_t RecordSize, std::uint32_t Size) {
  return F.size == Size && F.offset <= RecordSize &&
         F.offset + F.size <= RecordSize;
}

Error Reader::readTable() {
  std::string Target = Memory.describe();
  char Head[16];
  if (!Memory.read(Memory.tableAddress(), Head, sizeof Head))
    return fail("cannot read the coroscope table in " + Target);
  if (std::memcmp(Head, layout::kCookie, sizeof layout::kCookie) != 0)
    return fail(Target + ": the coroscope table is damaged (bad cookie)");
  std::uint32_t Version, Size;
  std::memcpy(&Version, Head + 8, 4);
  std::memcpy(&Size, Head + 12, 4);
  if (Version != layout::kVersion)
    return fail(Target + " has registry layout version " + Twine(Version) +
                "; this coroscope reads version " + Twine(layout::kVersion) +
                ": use the coroscope that matches the program's runtime");
  if (Size < sizeof(layout::table))
    return fail(Target + " has an older coroscope table of version " +
                Twine(Version) + " (" + Twine(Size) +
                " bytes; this coroscope "
                "reads " +
                Twine(unsigned(sizeof(layout::table))) +
                "): use the coroscope that matches the program's runtime");
  if (Size > MaxRecord)
    return fail(Target + ": the coroscope table is damaged (its size is " +
                Twine(Size) + " bytes)");
  if (!Memory.read(Memory.tableAddress(), &Table, sizeof Table))
    return fail("cannot read the coroscope table in " + Target);

  auto Damaged = [&](StringRef What) {
    return fail(Target + ": the coroscope table is damaged (" + What + ")");
  };
  if (Table.pointer_size != 8)
    return Damaged("pointer size");
  if (Table.shard_count == 0 || Table.shard_count > MaxShards ||
      Table.shard_stride == 0 || Table.shard_stride > MaxRecord ||
      !validField(Table.shard_head, Table.shard_stride, 8) ||
      !validField(Table.shard_generation, Table.shard_stride, 8))
    return Damaged("shards");
  if (!validField(Table.thread_next, MaxRecord, 8) ||
      !validField(Table.thread_index, MaxRecord, 4) ||
      !validField(Table.thread_tid, MaxRecord, 4) ||
      !validField(Table.thread_current, MaxRecord, 8))
    return Damaged("thread records");
  std::uint32_t F = Table.frame_size;
  if (F == 0 || F > MaxRecord)
    return Damaged("coroutine record size");
  for (layout::field Pointer :
       {Table.frame_next, Table.frame_body, Table.frame_id,
        Table.frame_parent_id, Table.frame_parent_body, Table.frame_start_site,
        Table.frame_site, Table.frame_since, Table.frame_expression_yield,
        Table.frame_start_ticks, Table.frame_running_ns, Table.frame_resumer,
        Table.frame_creator_id, Table.frame_creator_body,
        Table.frame_creation_site, Table.frame_waits_on, Table.frame_check})
    if (!validField(Pointer, F, 8))
      return Damaged("coroutine record fields");
  if (!validField(Table.frame_awaited, F, 1) ||
      !validField(Table.frame_state, F, 1) ||
      !validField(Table.frame_suspensions, F, 4) ||
      !validField(Table.frame_waits_on_suspension, F, 4) ||
      !validField(Table.frame_name_version, F, 4) ||
      !validField(Table.frame_suspend_thread, F, 4) ||
      !validField(Table.frame_shard, F, 4) || Table.frame_name.size == 0 ||
      Table.frame_name.size > 256 ||
      !validField(Table.frame_name, F, Table.frame_name.size))
    return Damaged("coroutine record fields");
  std::uint32_t S = Table.site_size;
  if (S == 0 || S > MaxSite || !validField(Table.site_function, S, 8) ||
      !validField(Table.site_file, S, 8) ||
      !validField(Table.site_line, S, 4) ||
      !validField(Table.site_column, S, 4) ||
      !validField(Table.site_kind, S, 1) ||
      !validField(Table.site_waits_for, S, 1))
    return Damaged("site fields");
  if (!validField(Table.frame_held, F, 8) ||
      !validField(Table.frame_waiting_lock, F, 8) ||
      Table.held_capacity == 0 || Table.held_capacity > MaxHeldLocks ||
      Table.held_entry_size == 0 || Table.held_entry_size > MaxSite ||
      !validField(Table.held_depth, MaxRecord, 4) ||
      !validField(Table.held_entry_mutex, Table.held_entry_size, 8) ||
      !validField(Table.held_entry_at, Table.held_entry_size, 8) ||
      Table.lock_site_size == 0 || Table.lock_site_size > MaxSite ||
      !validField(Table.lock_site_class, Table.lock_site_size, 8) ||
      Table.lock_owner_bits == 0 || Table.lock_owner_bits > 24 ||
      Table.lock_owner_stride == 0 || Table.lock_owner_stride > MaxSite ||
      !validField(Table.lock_owner_mutex, Table.lock_owner_stride, 8) ||
      !validField(Table.lock_owner_coroutine, Table.lock_owner_stride, 8) ||
      !validField(Table.lock_owner_at, Table.lock_owner_stride, 8) ||
      !validField(Table.lock_owner_thread, Table.lock_owner_stride, 4) ||
      !validField(Table.lock_site_file, Table.lock_site_size, 8) ||
      !validField(Table.lock_site_line, Table.lock_site_size, 4) ||
      !validField(Table.thread_locks, MaxRecord, 8) ||
      Table.locks_outside > MaxRecord ||
      !validField(Table.locks_waiting_mutex, MaxRecord, 8) ||
      !validField(Table.locks_waiting_at, MaxRecord, 8) ||
      !validField(Table.locks_waiting_since, MaxRecord, 8))
    return Damaged("lock fields");
  return Error::success();
}

std::string Reader::lockClass(std::uint64_t LockSite) {
  if (LockSite == 0 || reservedKey(LockSite))
    return "";
  auto [It, Inserted] = LockClasses.try_emplace(LockSite);
  std::uint64_t Name = 0;
  if (Inserted && LockSite != 0 &&
      readPointerAt(LockSite + Table.lock_site_class.offset, Name) && Name != 0)
    It->second = readString(Name);
  return It->second;
}

void Reader::readHeld(std::uint64_t Held, std::vector<std::string> &Holds) {
  std::uint32_t Depth = 0;
  if (!Memory.read(Held + Table.held_depth.offset, &Depth, 4))
    return;
  for (std::uint32_t I = 0; I < std::min(Depth, Table.held_capacity); ++I) {
    std::uint64_t At = 0;
    if (!readPointerAt(Held + Table.held_entries +
                           std::uint64_t(I) * Table.held_entry_size +
                           Table.held_entry_at.offset,
                       At))
      break;
    std::string Class = lockClass(At);
    Holds.push_back(Class.empty() ? "?" : Class);
  }
}

bool Reader::lockOwner(std::uint64_t Mutex, std::uint64_t &Coroutine,
                       std::uint32_t &Thread, std::uint64_t &At) {
  if (Table.lock_owners == 0)
    return false;
  std::uint64_t Slot =
      ((Mutex >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - Table.lock_owner_bits);
  std::uint64_t Owner = Table.lock_owners + Slot * Table.lock_owner_stride;
  std::uint64_t OwnedMutex = 0;
  if (!readPointerAt(Owner + Table.lock_owner_mutex.offset, OwnedMutex) ||
      OwnedMutex != Mutex ||
      !readPointerAt(Owner + Table.lock_owner_coroutine.offset, Coroutine) ||
      !readPointerAt(Owner + Table.lock_owner_at.offset, At) ||
      !Memory.read(Owner + Table.lock_owner_thread.offset, &Thread, 4))
    return false;
  if (reservedKey(Coroutine))
    Coroutine = 0;
  return true;
}

void Reader::readLocks(const std::vector<char> &Record, CoroutineRow &Row) {
  if (std::uint64_t Held = fieldOf<std::uint64_t>(Record, Table.frame_held))
    readHeld(Held, Row.Holds);
  std::uint64_t Mutex =
      fieldOf<std::uint64_t>(Record, Table.frame_waiting_lock);
  std::uint64_t Holder = 0, At = 0;
  std::uint32_t Thread = 0;
  if (Mutex == 0 || Row.State != "suspended" ||
      !lockOwner(Mutex, Holder, Thread, At))
    return;
  Row.WaitsForLock = lockClass(At);
  if (Row.WaitsForLock.empty())
    Row.WaitsForLock = "?";
  Row.LockHolder = Holder;
  Row.LockHolderThread = Holder == 0 ? Thread : 0;
}

void Reader::readThreadLocks(std::uint64_t Node, ThreadRow &Row) {
  std::uint64_t Locks = 0;
  if (!readPointerAt(Node + Table.thread_locks.offset, Locks) || Locks == 0 ||
      reservedKey(Locks))
    return;
  readHeld(Locks + Table.locks_outside, Row.Holds);
  std::uint64_t Mutex = 0, At = 0;
  if (!readPointerAt(Locks + Table.locks_waiting_mutex.offset, Mutex) ||
      Mutex == 0 || !readPointerAt(Locks + Table.locks_waiting_at.offset, At) ||
      At == 0 ||
      !Memory.read(Locks + Table.locks_waiting_since.offset,
                   &Row.WaitingSinceTicks, 8))
    return;
  LatestSince = std::max(LatestSince, Row.WaitingSinceTicks);
  Row.WaitsForLock = lockClass(At);
  if (Row.WaitsForLock.empty())
    Row.WaitsForLock = "?";
  std::uint64_t File = 0;
  std::uint32_t Line = 0;
  if (readPointerAt(At + Table.lock_site_file.offset, File) && File != 0 &&
      Memory.read(At + Table.lock_site_line.offset, &Line, 4))
    Row.WaitsAt = readString(File) + ":" + std::to_string(Line);
  std::uint64_t HolderAt = 0;
  std::uint32_t Thread = 0;
  if (lockOwner(Mutex, Row.LockHolder, Thread, HolderAt))
    Row.LockHolderThread = Row.LockHolder == 0 ? Thread : 0;
}

std::string Reader::readString(std::uint64_t Address) {
  std::string Text;
  char Chunk[64];
  while (Text.size() < MaxString) {
    // A string may end just before an unmapped page: read smaller pieces
    // there.
    std::size_t Want = sizeof Chunk;
    while (Want > 0 && !Memory.read(Address, Chunk, Want))
      Want /= 2;
    if (Want == 0)
      return Text.empty() ? "?" : Text;
    for (std::size_t I = 0; I < Want; ++I) {
      if (Chunk[I] == '\0')
        return Text;
      unsigned char C = static_cast<unsigned char>(Chunk[I]);
      Text += C < 0x20 || C == 0x7f ? '?' : Chunk[I];
    }
    Address += Want;
  }
  return Text;
}

const SiteInfo *Reader::site(std::uint64_t Address) {
  if (Address == 0 || reservedKey(Address))
    return nullptr;
  auto Found = Sites.find(Address);
  if (Found != Sites.end())
    return Found->second;
  SiteInfo Info;
  std::vector<char> Record(Table.site_size);
  if (Sites.size() < MaxSites &&
      Memory.read(Address, Record.data(), Record.size())) {
    auto Field = [&](layout::field F, auto &Into) {
      std::memcpy(&Into, Record.data() + F.offset, sizeof Into);
    };
    std::uint64_t Function = 0, File = 0;
    Field(Table.site_function, Function);
    Field(Table.site_file, File);
    Field(Table.site_line, Info.Line);
    Field(Table.site_column, Info.Column);
    Field(Table.site_kind, Info.Kind);
    Field(Table.site_waits_for, Info.WaitsFor);
    if (Info.Kind <= static_cast<std::uint8_t>(site_kind::creation) &&
        Info.WaitsFor <= static_cast<std::uint8_t>(awaits::timer_task) &&
        File != 0) {
      Info.File = readString(File);
      Info.Function = Function != 0 ? readString(Function) : "";
      Info.Known = Info.File != "?";
    }
  }
  const SiteInfo *Kept = nullptr;
  if (Info.Known) {
    Pool->push_back(std::move(Info));
    Kept = &Pool->back();
  }
  Sites[Address] = Kept;
  return Kept;
}

void Reader::readThreads(Snapshot &S) {
  std::uint64_t Node = 0;
  if (!readPointerAt(Table.thread_list, Node))
    return;
  DenseSet<std::uint64_t> Seen;
  while (Node != 0 && !reservedKey(Node) && S.Threads.size() < MaxThreads &&
         Seen.insert(Node).second) {
    ThreadRow Row;
    std::uint64_t Current = 0, Next = 0;
    if (!Memory.read(Node + Table.thread_index.offset, &Row.Index, 4) ||
        !Memory.read(Node + Table.thread_tid.offset, &Row.Tid, 4) ||
        !readPointerAt(Node + Table.thread_current.offset, Current) ||
        !readPointerAt(Node + Table.thread_next.offset, Next))
      break;
    readThreadLocks(Node, Row);
    S.Threads.push_back(std::move(Row));
    if (Current != 0 && !reservedKey(Current))
      ThreadOfCurrent[Current] = Row.Index;
    Node = Next;
  }
}

bool Reader::rowFrom(const std::vector<char> &Record, unsigned Shard,
                     CoroutineRow &Row, std::uint64_t &Resumer) {
  Row.Id = fieldOf<std::uint64_t>(Record, Table.frame_id);
  // A record ended, renamed or reused while it was copied fails its check.
  if (fieldOf<std::uint64_t>(Record, Table.frame_check) !=
      layout::record_check(
          Row.Id, Row.Address,
          fieldOf<std::uint32_t>(Record, Table.frame_name_version)))
    return false;
  std::uint8_t State = fieldOf<std::uint8_t>(Record, Table.frame_state);
  const char *Name = state_name(static_cast<coroscope::state>(State));
  const SiteInfo *Body = site(fieldOf<std::uint64_t>(Record, Table.frame_body));
  if (Row.Id == 0 || reservedKey(Row.Id) || Name == nullptr ||
      Body == nullptr ||
      Body->Kind != static_cast<std::uint8_t>(site_kind::body) ||
      fieldOf<std::uint32_t>(Record, Table.frame_shard) != Shard)
    return false;
  Row.State = Name;
  Row.Body = Body;
  std::uint64_t At = fieldOf<std::uint64_t>(Record, Table.frame_site);
  const SiteInfo *Site = site(At);
  if (Site == nullptr)
    return false;
  // A site of another function is a record that changed under the read.
  if (Site->Kind != static_cast<std::uint8_t>(site_kind::body) &&
      !Site->Function.empty() && Site->Function != Body->Function)
    return false;
  if (const SiteInfo *Yield =
          site(fieldOf<std::uint64_t>(Record, Table.frame_expression_yield));
      Yield && Row.State == "suspended")
    Site = Yield;
  Row.Site = Site;
  std::int64_t Since = fieldOf<std::int64_t>(Record, Table.frame_since);
  std::int64_t Start = fieldOf<std::int64_t>(Record, Table.frame_start_ticks);
  LatestSince = std::max(LatestSince, Since);
  Row.SinceTicks = Since; // made times once "now" is known
  Row.StartTicks = Start;
  Row.RunningMs =
      double(fieldOf<std::uint64_t>(Record, Table.frame_running_ns)) / 1e6;
  Row.Suspensions = fieldOf<std::uint32_t>(Record, Table.frame_suspensions);
  Row.ThreadIndex = fieldOf<std::uint32_t>(Record, Table.frame_suspend_thread);
  Row.Awaited = fieldOf<std::uint8_t>(Record, Table.frame_awaited) != 0;
  Row.ParentId = fieldOf<std::uint64_t>(Record, Table.frame_parent_id);
  Row.CreatorId = fieldOf<std::uint64_t>(Record, Table.frame_creator_id);
  if (reservedKey(Row.ParentId) || reservedKey(Row.CreatorId))
    return false; // the views look ids up in DenseMaps
  if (const SiteInfo *Creator =
          site(fieldOf<std::uint64_t>(Record, Table.frame_creator_body)))
    Row.CreatorBody = Creator;
  if (const SiteInfo *Creation =
          site(fieldOf<std::uint64_t>(Record, Table.frame_creation_site)))
    Row.CreationSite = Creation;
  const char *NameBytes = Record.data() + Table.frame_name.offset;
  std::size_t Length = strnlen(NameBytes, Table.frame_name.size);
  for (std::size_t I = 0; I < Length; ++I) {
    unsigned char C = static_cast<unsigned char>(NameBytes[I]);
    Row.Name += C < 0x20 || C == 0x7f ? '?' : NameBytes[I];
  }
  if (fieldOf<std::uint32_t>(Record, Table.frame_waits_on_suspension) ==
      Row.Suspensions)
    Row.WaitsOn = fieldOf<std::uint64_t>(Record, Table.frame_waits_on);
  if (reservedKey(Row.WaitsOn))
    return false;
  readLocks(Record, Row);
  Resumer = fieldOf<std::uint64_t>(Record, Table.frame_resumer);
  return true;
}

ShardRead Reader::readShard(unsigned Index, bool Settle,
                            std::vector<CoroutineRow> &Rows,
                            std::vector<std::uint64_t> &Resumers,
                            unsigned &Malformed) {
  std::uint64_t Shard =
      Table.shards + std::uint64_t(Index) * Table.shard_stride;
  std::uint64_t Before = 0, After = 0, Node = 0;
  // Before the generation: every record of a list that holds still was
  // mapped by then, so none of them can fail to read for want of a map.
  Memory.beginPass();
  if (!readPointerAt(Shard + Table.shard_generation.offset, Before) ||
      !readPointerAt(Shard + Table.shard_head.offset, Node))
    return ShardRead::Unreadable;
  std::vector<char> Record(Table.frame_size);
  DenseSet<std::uint64_t> Seen;
  unsigned Bad = 0;
  std::size_t Budget = Options.Limit + 1;
  while (Node != 0) {
    // A list that loops or outgrows the limit changed under the walk, or
    // is garbage: the generation check below decides which.
    if (reservedKey(Node)) { // no record fits there
      ++Bad;
      break;
    }
    if (!Seen.insert(Node).second || Budget-- == 0)
      break;
    if (!Memory.read(Node, Record.data(), Record.size())) {
      ++Bad;
      break;
    }
    CoroutineRow Row;
    std::uint64_t Resumer = 0;
    Row.Address = Node;
    bool Good = rowFrom(Record, Index, Row, Resumer);
    if (Good && Settle) {
      // The list is changing: keep a record only if its check still holds
      // after the copy, so that it was one coroutine's all along.
      std::uint64_t Check = 0;
      Good = readPointerAt(Node + Table.frame_check.offset, Check) &&
             Check == fieldOf<std::uint64_t>(Record, Table.frame_check);
    }
    if (Good) {
      Rows.push_back(std::move(Row));
      Resumers.push_back(Resumer);
    } else {
      ++Bad;
    }
    Node = fieldOf<std::uint64_t>(Record, Table.frame_next);
  }
  bool Stable = readPointerAt(Shard + Table.shard_generation.offset, After) &&
                After == Before && (Before & 1) == 0;
  if (Stable)
    Malformed += Bad; // in a list that did not change, a bad record is bad
  return Stable ? ShardRead::Stable : ShardRead::Changed;
}

Expected<Snapshot> Reader::run() {
  Memory.beginPass();
  if (Error E = readTable())
    return std::move(E);
  Snapshot S;
  Pool = S.Sites.get();
  S.Target = Memory.describe();
  S.ShardCount = Table.shard_count;
  if (Table.shards == 0) {
    S.Started = false;
    return S;
  }
  double PerTick = 0;
  std::uint8_t UseTsc = 0, Manual = 0;
  std::int64_t ManualNow = 0;
  if (!Memory.read(Table.ns_per_tick, &PerTick, 8) ||
      !Memory.read(Table.use_tsc, &UseTsc, 1) ||
      !Memory.read(Table.manual_clock, &Manual, 1) ||
      !Memory.read(Table.manual_now, &ManualNow, 8) ||
      !Memory.read(Table.slow_ticks, &SlowTicks, 8) ||
      !Memory.read(Table.hang_ticks, &HangTicks, 8))
    return fail(S.Target + ": cannot read the runtime's clock");
  if (!std::isfinite(PerTick) || PerTick <= 0 || PerTick > 1e6)
    return fail(S.Target + ": the coroscope table is damaged (clock rate)");
  NsPerTick = PerTick;

  readThreads(S);
  std::vector<CoroutineRow> Rows;
  std::vector<std::uint64_t> Resumers;
  for (unsigned Index = 0; Index < Table.shard_count; ++Index) {
    // Attempts while the list keeps changing, then one that keeps only the
    // records that held still.
    for (unsigned Attempt = 0; Attempt <= Options.Retries + 1; ++Attempt) {
      bool Settle = Attempt > Options.Retries;
      // Read straight into the snapshot; cut back for another attempt.
      std::size_t Before = Rows.size();
      unsigned Malformed = 0;
      ShardRead Result = readShard(Index, Settle, Rows, Resumers, Malformed);
      if (Result != ShardRead::Stable &&
          !(Result == ShardRead::Changed && Settle)) {
        Rows.resize(Before);
        Resumers.resize(Before);
      }
      if (Result == ShardRead::Unreadable) {
        ++S.UnreadableShards;
        break;
      }
      if (Result == ShardRead::Changed && !Settle) {
        std::this_thread::yield();
        continue;
      }
      if (Result == ShardRead::Changed)
        ++S.TornShards;
      S.MalformedRecords += Malformed;
      break;
    }
    if (Rows.size() > Options.Limit) {
      Rows.resize(Options.Limit);
      Resumers.resize(Options.Limit);
      S.Truncated = true;
      break;
    }
  }

  if (Manual) {
    Now = ManualNow;
    NowKnown = true;
  } else if (auto Live = Memory.nowTicks(UseTsc != 0)) {
    Now = *Live;
    NowKnown = true;
  } else {
    // A core: the watchdog's last heartbeat if it ran, else the dump's
    // time by the wall clock, turned into ticks through the runtime's
    // start, else the last event the registry shows.
    std::int64_t Heartbeat = 0, OriginTicks = 0, OriginUnixNs = 0;
    if (Table.heartbeat != 0)
      Memory.read(Table.heartbeat, &Heartbeat, 8);
    std::optional<std::int64_t> TakenAt = Memory.takenAtUnixNs();
    bool Origin = Table.origin_ticks != 0 && Table.origin_unix_ns != 0 &&
                  Memory.read(Table.origin_ticks, &OriginTicks, 8) &&
                  Memory.read(Table.origin_unix_ns, &OriginUnixNs, 8) &&
                  OriginUnixNs > 0;
    if (Heartbeat > 0) {
      Now = Heartbeat;
      S.TimesEndAt = "the watchdog's last heartbeat";
    } else if (TakenAt && Origin && *TakenAt >= OriginUnixNs) {
      double Ticks = double(*TakenAt - OriginUnixNs) / NsPerTick;
      Now = Ticks < 9e18 ? OriginTicks + static_cast<std::int64_t>(Ticks)
                         : INT64_MAX;
      S.TimesEndAt = "the core file's time";
    } else {
      Now = LatestSince;
      S.TimesEndAt = "the last event recorded";
    }
    Now = std::max(Now, LatestSince);
  }
  S.SlowMs = SlowTicks == INT64_MAX ? 0 : ticksToMs(SlowTicks);
  S.HangMs = HangTicks == INT64_MAX ? 0 : ticksToMs(HangTicks);

  // A running coroutine runs on the thread whose current coroutine it is,
  // or that current coroutine's resumer, and so on.
  DenseMap<std::uint64_t, std::size_t> ByAddress;
  for (std::size_t I = 0; I < Rows.size(); ++I)
    ByAddress[Rows[I].Address] = I;
  // 64-bit keys: every 32-bit index is one, none is a reserved key.
  DenseMap<std::uint64_t, std::int32_t> TidOf;
  for (const ThreadRow &T : S.Threads)
    TidOf[T.Index] = T.Tid;
  for (auto [Current, Thread] : ThreadOfCurrent) {
    std::uint64_t Frame = Current;
    for (unsigned Depth = 0; Depth < 4096 && Frame != 0 && !reservedKey(Frame);
         ++Depth) {
      auto Found = ByAddress.find(Frame);
      if (Found == ByAddress.end())
        break;
      Rows[Found->second].ThreadIndex = Thread;
      Frame = Resumers[Found->second];
    }
  }
  for (CoroutineRow &Row : Rows) {
    std::int64_t InState = elapsed(Now, Row.SinceTicks);
    Row.StateMs = ticksToMs(InState);
    Row.AgeMs = ticksToMs(elapsed(Now, Row.StartTicks));
    Row.Tid = TidOf.lookup(Row.ThreadIndex);
    Row.SlowStep = Row.State == "running" && InState > SlowTicks;
    Row.Hang = Row.State == "suspended" &&
               Row.Site->WaitsFor == static_cast<std::uint8_t>(awaits::event) &&
               InState > HangTicks;
  }
  for (ThreadRow &T : S.Threads)
    if (!T.WaitsForLock.empty())
      T.WaitingMs = ticksToMs(elapsed(Now, T.WaitingSinceTicks));
  S.Coroutines = std::move(Rows);
  return S;
}

} // namespace

Expected<Snapshot> readSnapshot(TargetMemory &Memory,
                                const ReadOptions &Options) {
  return Reader(Memory, Options).run();
}

} // namespace coroscope::tool
