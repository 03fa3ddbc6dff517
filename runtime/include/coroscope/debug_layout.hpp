// The registry layout the runtime publishes for readers outside the process
// (`coroscope ps`, `pstree`, `top`, a core dump): one table, in its own ELF
// section, that says where the registry is and where every field a reader
// needs lies in the runtime's records. The model is CPython's
// _Py_DebugOffsets. docs/runtime/debug-layout.md describes it.
//
// Versioning: `version` changes when a field changes meaning or a reader
// written for the old value would misread the records; a reader refuses
// another version. Fields are only appended within a version, and
// `table_size` says how many there are, so an older reader of the same
// version reads the prefix it knows.
#pragma once

#include <cstdint>

namespace coroscope::debug_layout {

inline constexpr char kCookie[8] = {'c', 'o', 'r', 'o', 's', 'c', 'p', '\x7f'};
inline constexpr std::uint32_t kVersion = 1;
// The ELF section holding the table (it survives `strip`), and its symbol.
inline constexpr const char *kSection = "coroscope_debug";
inline constexpr const char *kSymbol = "coroscope_debug_table";

// A record's check word: a reader outside the process trusts a record
// (coroscope::frame) only while it holds this value, which its id, its
// address and its name's version decide. Zero while the record changes.
constexpr std::uint64_t record_check(std::uint64_t id, std::uint64_t address,
                                     std::uint32_t name_version) {
  return (id * 0x9E3779B97F4A7C15ull) ^ address ^
         (std::uint64_t(name_version) * 0xC2B2AE3D27D4EB4Full) ^ 0x636f726f73637021ull;
}

// Where a field lies in a record, and its size in bytes.
struct field {
  std::uint32_t offset = 0, size = 0;
};

struct table {
  char cookie[8];
  std::uint32_t version;
  std::uint32_t table_size; // sizeof(table) of the writer
  std::uint32_t pointer_size;
  std::uint32_t process_id; // the writer's pid when the registry was published

  // Addresses, zero until the runtime first starts tracking.
  std::uint64_t shards;       // the first of shard_count shards
  std::uint64_t thread_list;  // a pointer to the newest thread record
  std::uint64_t heartbeat;    // int64 ticks, written by the watchdog: "now" in a core
  // Addresses of the clock and thresholds (constant).
  std::uint64_t use_tsc;      // bool: ticks are the TSC, else steady_clock ns
  std::uint64_t ns_per_tick;  // double
  std::uint64_t manual_clock; // bool: a test's clock (testing.hpp)
  std::uint64_t manual_now;   // int64
  std::uint64_t slow_ticks;   // int64: a step longer than this is slow
  std::uint64_t hang_ticks;   // int64: a wait longer than this is a hang
  std::uint64_t origin_ticks;   // int64: ticks when the runtime started
  std::uint64_t origin_unix_ns; // int64: the wall clock then (Unix ns)

  // A shard: a lock-protected list of live coroutine records. The
  // generation is odd while the list changes and grows by two per change;
  // a reader whose walk saw it change retries.
  std::uint32_t shard_count, shard_stride;
  field shard_head, shard_generation;

  // A thread record; records are never freed.
  field thread_next, thread_index, thread_tid, thread_current;

  // A coroutine record (coroscope::frame), inside the coroutine's frame.
  std::uint32_t frame_size;
  field frame_next, frame_body, frame_id, frame_parent_id, frame_parent_body,
      frame_start_site, frame_awaited, frame_state, frame_site, frame_since,
      frame_expression_yield, frame_start_ticks, frame_suspensions, frame_running_ns,
      frame_suspend_thread, frame_resumer, frame_shard, frame_name, frame_creator_id,
      frame_creator_body, frame_creation_site, frame_waits_on,
      frame_waits_on_suspension, frame_check, frame_name_version;

  // A site (coroscope::site): a static constant.
  std::uint32_t site_size;
  field site_function, site_file, site_line, site_column, site_kind, site_waits_for;

  // Locks (docs/runtime/locks.md). A coroutine record points to the set of
  // locks it holds (null when none) and to the async mutex it waits for.
  field frame_held, frame_waiting_lock;
  // The held set: its depth (uint32, at most held_capacity), then entries
  // of held_entry_size bytes from held_entries; an entry's `at` points to a
  // lock site, a static constant whose lock_class is a string.
  std::uint32_t held_capacity, held_entries, held_entry_size;
  field held_depth, held_entry_mutex, held_entry_at;
  std::uint32_t lock_site_size;
  field lock_site_class;
  // Who holds each lock: lock_owner_count slots of lock_owner_stride bytes
  // from lock_owners, the slot of mutex m at
  // (((m >> 4) * 0x9E3779B97F4A7C15) >> (64 - lock_owner_bits)); a slot
  // holds it while its mutex field is m. coroutine is 0 for a thread.
  std::uint64_t lock_owners;
  std::uint32_t lock_owner_bits, lock_owner_stride;
  field lock_owner_mutex, lock_owner_coroutine, lock_owner_at;

  // A thread's locks. A thread record points to its lock state (null until
  // its first lock), which holds the locks it took outside any coroutine
  // (a held set, as above, at locks_outside) and the lock it is blocked on:
  // that lock's mutex (null when none), the lock site it waits at, and since
  // when (int64 ticks). A lock site's file is a string, its line a uint32.
  field thread_locks;
  std::uint32_t locks_outside;
  field locks_waiting_mutex, locks_waiting_at, locks_waiting_since;
  field lock_site_file, lock_site_line;
  // The index of the thread holding a lock, when its coroutine is 0.
  field lock_owner_thread;
};

} // namespace coroscope::debug_layout
