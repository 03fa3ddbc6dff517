// The published registry layout (coroscope/debug_layout.hpp): one table in
// its own ELF section, constant but for the registry's address, which is
// written once when the runtime is created. Nothing here runs per await.
#include "coroscope/debug_layout.hpp"

#include "lock_tracker.hpp"
#include "tracker.hpp"

#include <cstddef>
#include <unistd.h>

namespace coroscope::detail {
namespace {

namespace layout = coroscope::debug_layout;

// frame and thread_state are standard-layout; offsetof on the members of a
// class with atomics is what every supported compiler documents.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
#define COROSCOPE_FIELD(type_, member_)                                                    \
  layout::field {                                                                          \
    static_cast<std::uint32_t>(offsetof(type_, member_)),                                  \
        static_cast<std::uint32_t>(sizeof(type_::member_))                                 \
  }

std::uint64_t address(const void *p) { return reinterpret_cast<std::uint64_t>(p); }

constexpr layout::table make_table() {
  layout::table t{};
  for (int i = 0; i < 8; ++i)
    t.cookie[i] = layout::kCookie[i];
  t.version = layout::kVersion;
  t.table_size = sizeof(layout::table);
  t.pointer_size = sizeof(void *);
  t.shard_count = kShards;
  t.shard_stride = sizeof(shard);
  t.shard_head = COROSCOPE_FIELD(shard, head);
  t.shard_generation = COROSCOPE_FIELD(shard, generation);
  t.thread_next = COROSCOPE_FIELD(thread_record, published_next);
  t.thread_index = {static_cast<std::uint32_t>(offsetof(thread_record, state) +
                                               offsetof(thread_state, index)),
                    sizeof(thread_state::index)};
  t.thread_tid = COROSCOPE_FIELD(thread_record, trace_tid);
  t.thread_current = {static_cast<std::uint32_t>(offsetof(thread_record, state) +
                                                 offsetof(thread_state, current)),
                      sizeof(thread_state::current)};
  t.frame_size = sizeof(frame);
  t.frame_next = COROSCOPE_FIELD(frame, next_);
  t.frame_body = COROSCOPE_FIELD(frame, body_);
  t.frame_id = COROSCOPE_FIELD(frame, id_);
  t.frame_parent_id = COROSCOPE_FIELD(frame, parent_id_);
  t.frame_parent_body = COROSCOPE_FIELD(frame, parent_body_);
  t.frame_start_site = COROSCOPE_FIELD(frame, start_site_);
  t.frame_awaited = COROSCOPE_FIELD(frame, awaited_);
  t.frame_state = COROSCOPE_FIELD(frame, state_);
  t.frame_site = COROSCOPE_FIELD(frame, site_);
  t.frame_since = COROSCOPE_FIELD(frame, since_);
  t.frame_expression_yield = COROSCOPE_FIELD(frame, expression_yield_);
  t.frame_start_ticks = COROSCOPE_FIELD(frame, start_ticks_);
  t.frame_suspensions = COROSCOPE_FIELD(frame, suspensions_);
  t.frame_running_ns = COROSCOPE_FIELD(frame, running_ns_);
  t.frame_suspend_thread = COROSCOPE_FIELD(frame, suspend_thread_);
  t.frame_resumer = COROSCOPE_FIELD(frame, resumer_);
  t.frame_shard = COROSCOPE_FIELD(frame, shard_);
  t.frame_name = COROSCOPE_FIELD(frame, name_);
  t.frame_creator_id = COROSCOPE_FIELD(frame, creator_id_);
  t.frame_creator_body = COROSCOPE_FIELD(frame, creator_body_);
  t.frame_creation_site = COROSCOPE_FIELD(frame, creation_site_);
  t.frame_waits_on = COROSCOPE_FIELD(frame, waits_on_);
  t.frame_waits_on_suspension = COROSCOPE_FIELD(frame, waits_on_suspension_);
  t.frame_check = COROSCOPE_FIELD(frame, check_);
  t.frame_name_version = COROSCOPE_FIELD(frame, name_version_);
  t.site_size = sizeof(site);
  t.site_function = COROSCOPE_FIELD(site, function);
  t.site_file = COROSCOPE_FIELD(site, file);
  t.site_line = COROSCOPE_FIELD(site, line);
  t.site_column = COROSCOPE_FIELD(site, column);
  t.site_kind = COROSCOPE_FIELD(site, kind);
  t.site_waits_for = COROSCOPE_FIELD(site, waits_for);
  t.frame_held = COROSCOPE_FIELD(frame, held_);
  t.frame_waiting_lock = COROSCOPE_FIELD(frame, waiting_lock_);
  t.held_capacity = kMaxHeldLocks;
  t.held_entries = static_cast<std::uint32_t>(offsetof(held_locks, entries));
  t.held_entry_size = sizeof(held_lock);
  t.held_depth = COROSCOPE_FIELD(held_locks, depth);
  t.held_entry_mutex = COROSCOPE_FIELD(held_lock, mutex);
  t.held_entry_at = COROSCOPE_FIELD(held_lock, at);
  t.lock_site_size = sizeof(lock_site);
  t.lock_site_class = COROSCOPE_FIELD(lock_site, lock_class);
  t.lock_owner_bits = kOwnerSlotBits;
  t.lock_owner_stride = sizeof(lock_owner);
  t.lock_owner_mutex = COROSCOPE_FIELD(lock_owner, mutex);
  t.lock_owner_coroutine = COROSCOPE_FIELD(lock_owner, coroutine);
  t.lock_owner_at = COROSCOPE_FIELD(lock_owner, at);
  t.thread_locks = COROSCOPE_FIELD(thread_record, locks);
  t.locks_outside = static_cast<std::uint32_t>(offsetof(thread_locks, outside));
  t.locks_waiting_mutex = COROSCOPE_FIELD(thread_locks, waiting_mutex);
  t.locks_waiting_at = COROSCOPE_FIELD(thread_locks, waiting_at);
  t.locks_waiting_since = COROSCOPE_FIELD(thread_locks, waiting_since);
  t.lock_site_file = COROSCOPE_FIELD(lock_site, file);
  t.lock_site_line = COROSCOPE_FIELD(lock_site, line);
  t.lock_owner_thread = COROSCOPE_FIELD(lock_owner, thread);
  return t;
}
#undef COROSCOPE_FIELD
#pragma GCC diagnostic pop

static_assert(sizeof(std::atomic<const site *>) == sizeof(void *));
static_assert(sizeof(std::atomic<std::int64_t>) == 8 && sizeof(std::atomic<std::uint8_t>) == 1);
static_assert(sizeof(site_kind) == 1 && sizeof(awaits) == 1);

} // namespace
} // namespace coroscope::detail

// Constant-initialized, so a reader finds the cookie and offsets even before
// the runtime starts; the addresses are written when it does, so the table
// is writable, and core dumps keep written pages. `retain` keeps it from
// --gc-sections; `used` from the compiler.
extern "C" {
[[gnu::used, gnu::retain, gnu::section("coroscope_debug")]]
constinit coroscope::debug_layout::table coroscope_debug_table =
    coroscope::detail::make_table();
}

namespace coroscope::detail {

void publish_registry(runtime &r) {
  auto &t = coroscope_debug_table;
  t.use_tsc = address(&g_use_tsc);
  t.ns_per_tick = address(&g_ns_per_tick);
  t.manual_clock = address(&g_manual_clock);
  t.manual_now = address(&g_manual_now);
  t.slow_ticks = address(&g_slow_ticks);
  t.hang_ticks = address(&g_hang_ticks);
  t.origin_ticks = address(&r.start_ticks);
  t.origin_unix_ns = address(&r.start_unix_ns);
  t.process_id = static_cast<std::uint32_t>(::getpid());
  t.thread_list = address(&r.published_threads);
  t.heartbeat = address(&r.heartbeat_ticks);
  t.lock_owners = address(&g_lock_owners[0]);
  std::atomic_thread_fence(std::memory_order_release);
  t.shards = address(&r.shards[0]);
}

} // namespace coroscope::detail
