// libFuzzer target: the registry reader of `coroscope ps`, `pstree` and `top`
// on a fake process whose memory is made of the input. The table is the
// runtime's own (coroscope_debug_table, linked in), its addresses pointed
// into a heap of input bytes, so that the bytes are read as the clock,
// threads, shards, coroutine records, sites and strings; a mode byte keeps
// the table intact or damages it. Reads outside the table and the heap fail,
// as unmapped memory does. A snapshot the reader accepts must render in
// every view.
//
// Input: a 40-byte header (missing bytes are zero), then the heap.
//   [0]     mode: bits 0-1 the table: 0 intact, 1 patches overwrite it,
//           2 patches are xored into it, 3 the 32 patch bytes, repeated,
//           are xored into all of it; bit 2 a live process (the clock is
//           readable, HeapNow below) else a core; bit 3 the runtime has not
//           started (no shards); bit 4 a limit of 3 rows; bits 5-6 the
//           filter of the views.
//   [1] [2] top's width and height (0: no limit).
//   [8..39] four patches: a 16-bit table offset, a length (len % 6; 0: no
//           patch), five bytes.
// The heap (HeapSize bytes at HeapBase, zero past the input) holds the
// clock words at fixed offsets, then the shards; everything else is up to
// the input.
#include "RegistryReader.h"
#include "AwaitTree.h"
#include "SnapshotViews.h"
#include "TopScreen.h"
#include "TargetMemory.h"
#include "coroscope/debug_layout.hpp"

#include "llvm/Support/Error.h"
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

extern "C" coroscope::debug_layout::table coroscope_debug_table;

namespace {

using coroscope::debug_layout::table;
namespace tool = coroscope::tool;

constexpr std::uint64_t TableBase = 0x0000'5555'0000'1000ull;
constexpr std::uint64_t HeapBase = 0x0000'7f00'0000'0000ull;
constexpr std::size_t HeapSize = 64 * 1024;
constexpr std::size_t HeaderSize = 40;

// Where the table's addresses point in the heap.
enum HeapOffset : std::uint64_t {
  HeapUseTsc = 0,      // u8
  HeapManualClock = 1, // u8
  HeapNsPerTick = 8,   // double
  HeapManualNow = 16,  // int64
  HeapSlowTicks = 24,  // int64
  HeapHangTicks = 32,  // int64
  HeapHeartbeat = 40,  // int64
  HeapThreadList = 48, // the newest thread record's address
  HeapNow = 56,        // int64: the live clock (not the target's; nowTicks)
  HeapShards = 64,     // shard_count shards of shard_stride bytes
};

struct Region {
  std::uint64_t Base;
  const std::uint8_t *Bytes;
  std::size_t Size;
};

class FakeMemory : public tool::TargetMemory {
public:
  FakeMemory(std::vector<Region> Regions, bool Live)
      : Regions(std::move(Regions)), Live(Live) {}

  bool read(std::uint64_t Address, void *Buffer, std::size_t Size) override {
    for (const Region &R : Regions)
      if (Address >= R.Base && Size <= R.Size &&
          Address - R.Base <= R.Size - Size) {
        std::memcpy(Buffer, R.Bytes + (Address - R.Base), Size);
        return true;
      }
    return false;
  }
  std::uint64_t tableAddress() const override { return TableBase; }
  std::optional<std::int64_t> nowTicks(bool) const override {
    if (!Live)
      return std::nullopt;
    std::int64_t Now = 0;
    std::memcpy(&Now, Regions.back().Bytes + HeapNow, sizeof Now);
    return Now;
  }
  std::string describe() const override { return "fuzz target"; }

private:
  std::vector<Region> Regions; // the heap last
  bool Live;
};

void exerciseViews(const tool::Snapshot &S, const std::string &Filter,
                   unsigned Width, unsigned Height) {
  std::vector<tool::CoroutineRow> Rows = S.Coroutines;
  for (const char *Key : {"id", "function", "name", "state", "time", "thread"})
    if (!tool::sortRows(Rows, Key))
      std::abort();
  if (tool::sortRows(Rows, "no such key"))
    std::abort();
  tool::filterRows(Rows, Filter);
  for (tool::RowFormat Format :
       {tool::RowFormat::Table, tool::RowFormat::Json, tool::RowFormat::Csv}) {
    (void)tool::renderRows(S, Rows, Format, false);
    (void)tool::renderRows(S, S.Coroutines, Format, true);
  }
  std::vector<tool::Cycle> Cycles = tool::findCycles(S);
  for (const tool::Cycle &Loop : Cycles)
    for (const tool::CoroutineRow *Row : Loop)
      if (Row == nullptr)
        std::abort();
  (void)tool::renderTree(S, Cycles);
  for (const char *Sort : {"", "count", "waiting", "running", "hangs", "name"})
    (void)tool::renderTop(S, Sort, Filter, Width, Height);
  (void)tool::snapshotWarnings(S);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  std::uint8_t Header[HeaderSize] = {};
  std::memcpy(Header, Data, std::min(Size, HeaderSize));
  std::uint8_t Mode = Header[0];

  // The runtime's table as it is before it starts: real offsets and sizes,
  // addresses then pointed into the heap.
  table Table;
  std::memcpy(&Table, &coroscope_debug_table, sizeof Table);
  Table.shards = (Mode & 8) ? 0 : HeapBase + HeapShards;
  Table.thread_list = HeapBase + HeapThreadList;
  Table.heartbeat = HeapBase + HeapHeartbeat;
  Table.use_tsc = HeapBase + HeapUseTsc;
  Table.ns_per_tick = HeapBase + HeapNsPerTick;
  Table.manual_clock = HeapBase + HeapManualClock;
  Table.manual_now = HeapBase + HeapManualNow;
  Table.slow_ticks = HeapBase + HeapSlowTicks;
  Table.hang_ticks = HeapBase + HeapHangTicks;

  std::uint8_t TableBytes[sizeof(table)];
  std::memcpy(TableBytes, &Table, sizeof Table);
  const std::uint8_t *Patches = Header + 8;
  switch (Mode & 3) {
  case 0:
    break;
  case 1:
  case 2:
    for (int P = 0; P < 4; ++P) {
      const std::uint8_t *Patch = Patches + 8 * P;
      std::size_t At = (Patch[0] | (Patch[1] << 8)) % sizeof(table);
      std::size_t Length = Patch[2] % 6;
      for (std::size_t I = 0; I < Length && At + I < sizeof(table); ++I)
        TableBytes[At + I] =
            (Mode & 3) == 1 ? Patch[3 + I] : TableBytes[At + I] ^ Patch[3 + I];
    }
    break;
  case 3:
    for (std::size_t I = 0; I < sizeof(table); ++I)
      TableBytes[I] ^= Patches[I % 32];
    break;
  }

  std::vector<std::uint8_t> Heap(HeapSize, 0);
  if (Size > HeaderSize)
    std::memcpy(Heap.data(), Data + HeaderSize,
                std::min(Size - HeaderSize, HeapSize));

  FakeMemory Memory({{TableBase, TableBytes, sizeof TableBytes},
                     {HeapBase, Heap.data(), Heap.size()}},
                    (Mode & 4) != 0);
  tool::ReadOptions Options;
  Options.Retries = 1;
  Options.Limit = (Mode & 16) ? 3 : 10000;

  llvm::Expected<tool::Snapshot> S = tool::readSnapshot(Memory, Options);
  if (!S) {
    std::string Message = llvm::toString(S.takeError());
    if (Message.empty())
      std::abort();
    return 0;
  }
  if (S->Coroutines.size() > Options.Limit)
    std::abort();
  static const char *const Filters[] = {"", "*", "f*", "[oops"};
  exerciseViews(*S, Filters[(Mode >> 5) & 3], Header[1], Header[2]);
  return 0;
}
