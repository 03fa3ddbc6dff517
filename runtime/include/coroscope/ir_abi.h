/* The IR engine's contract with the runtime (docs/tools/instrument.md, "The IR engine").
 *
 * The plugin's IR pass (rewriter/SuspensionHooksPass.cpp) reserves a frame's
 * storage in each coroutine it instruments, writes the sites as constants
 * laid out like coroscope::site, and calls the hooks named here. Plain C and
 * C++17, so that the plugin, built with LLVM's flags, includes it too; the
 * runtime (src/ir_hooks.cpp) checks every figure against its own types. */
#ifndef COROSCOPE_IR_ABI_H
#define COROSCOPE_IR_ABI_H

/* Bytes and alignment of the storage the pass reserves for a
 * coroscope::frame; the runtime asserts the frame fits. The first pointer of
 * the storage is the frame's body site, null until the body starts and
 * again once it ended: the pass writes the null when the frame is made.
 * Until the body starts, the bytes after it hold the ramp's record of who
 * created the coroutine (coroscope_ir_created). */
#define COROSCOPE_IR_FRAME_SIZE 336
#define COROSCOPE_IR_FRAME_ALIGN 8

/* coroscope::site on an LP64 target: two pointers (function, file), two
 * 32-bit numbers (line, column), then three bytes (kind, what it waits for,
 * whether the body records its exceptions). */
#define COROSCOPE_IR_SITE_SIZE 32
/* coroscope::site_kind and coroscope::awaits values. */
#define COROSCOPE_IR_KIND_BODY 0
#define COROSCOPE_IR_KIND_AWAIT 1
#define COROSCOPE_IR_KIND_YIELD 2
#define COROSCOPE_IR_KIND_LAST_YIELD 3
#define COROSCOPE_IR_KIND_CREATION 4
#define COROSCOPE_IR_AWAITS_EVENT 0
#define COROSCOPE_IR_AWAITS_CHILD 1
#define COROSCOPE_IR_AWAITS_SCHEDULE 2
#define COROSCOPE_IR_AWAITS_TIMER 3
#define COROSCOPE_IR_AWAITS_TIMER_TASK 4

/* The hooks, all `void (void *storage, ...)`, noexcept.
 *   created(storage)       in the ramp, after llvm.coro.begin: who creates
 *                          the coroutine, and where
 *   creating(storage, at)  the body calls, at `at`, a function that creates
 *                          a coroutine (a creation site, or the site of the
 *                          suspension that awaits the call at once)
 *   begin(storage, body)   the body starts (after the initial suspend)
 *   suspend(storage, at)   a real suspension at `at` begins
 *   resume(storage)        it ended: the coroutine runs again
 *   failed(storage)        in the body's handler: the exception left the body
 *   end(storage)           the body is done: the final suspend begins
 *   destroyed(storage)     destroyed while suspended at an await or a yield
 *   unwound(storage)       an exception leaves the coroutine itself */
#define COROSCOPE_IR_CREATED "coroscope_ir_created"
#define COROSCOPE_IR_CREATING "coroscope_ir_creating"
#define COROSCOPE_IR_BEGIN "coroscope_ir_begin"
#define COROSCOPE_IR_SUSPEND "coroscope_ir_suspend"
#define COROSCOPE_IR_RESUME "coroscope_ir_resume"
#define COROSCOPE_IR_FAILED "coroscope_ir_failed"
#define COROSCOPE_IR_END "coroscope_ir_end"
#define COROSCOPE_IR_DESTROYED "coroscope_ir_destroyed"
#define COROSCOPE_IR_UNWOUND "coroscope_ir_unwound"

/* Locks (docs/runtime/locks.md), `void`, noexcept, weak, each taking the
 * lock's address and its site, a coroscope::lock_site constant:
 *   { const char *lock_class, *function, *file; uint32 line, column;
 *     uint8 kind (0 mutex, 1 shared, 2 async) }, 40 bytes on LP64.
 *   lock_waiting(mutex, at, token)   before a blocking acquisition; writes
 *                                    the wait's 64-bit token (INT64_MIN:
 *                                    nobody held it)
 *   lock_acquired(mutex, at, token)  after it, or after a try_lock that
 *                                    succeeded
 *   lock_released(mutex, at)         before the release */
#define COROSCOPE_IR_LOCK_WAITING "coroscope_ir_lock_waiting"
#define COROSCOPE_IR_LOCK_ACQUIRED "coroscope_ir_lock_acquired"
#define COROSCOPE_IR_LOCK_RELEASED "coroscope_ir_lock_released"
#define COROSCOPE_IR_LOCK_SITE_SIZE 40
#define COROSCOPE_IR_LOCK_KIND_MUTEX 0
#define COROSCOPE_IR_LOCK_KIND_SHARED 1
#define COROSCOPE_IR_LOCK_KIND_ASYNC 2

/* The line instrumented code prints once, in either engine, when it runs
 * without the runtime (unless COROSCOPE is 0 or off). */
#define COROSCOPE_RUNTIME_MISSING_LINE                                         \
  "coroscope: warning: this program is instrumented but the coroscope "      \
  "runtime is not linked (-lcoroscope-runtime); tracking is off\n"

/* Awaits that did not suspend (await_ready was true) run no hook: each
 * await and yield site of a coroutine has a counter, which the ready path
 * increments inline with a relaxed atomic load and store. Concurrent ready
 * awaits at one site may lose an increment, so the count is a lower bound.
 * The counters of one coroutine form a table, which a module constructor
 * hands the runtime: ready_sites(table), `void (void *)`, weak. On LP64:
 *   next       pointer, the runtime's list; null until registered
 *   size       64-bit, the number of entries
 *   entries    size x { const coroscope::site *at; 64-bit count } */
#define COROSCOPE_IR_READY_SITES "coroscope_ir_ready_sites"
#define COROSCOPE_IR_READY_HEADER_SIZE 16
#define COROSCOPE_IR_READY_ENTRY_SIZE 16

#endif
