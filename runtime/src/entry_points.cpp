// The one strong symbol that links the runtime. Instrumented code refers to
// the entry points weakly (coroscope.hpp), and a linker takes an archive
// member only for a strong reference; the runtime's linker script
// (libcoroscope-runtime.so) and CMake target ask for this symbol, which
// refers to every entry point, so the whole runtime comes with it.
#include "tracker.hpp"

// `extern "C"` without braces: a const at namespace scope has external
// linkage only when it is declared extern.
extern "C" [[gnu::used]] const void *const coroscope_runtime_link[] = {
    reinterpret_cast<const void *>(&coroscope::detail::configure_runtime),
    reinterpret_cast<const void *>(&coroscope::detail::make_thread_state),
    reinterpret_cast<const void *>(&coroscope::detail::intern_site),
    reinterpret_cast<const void *>(&coroscope::detail::begin_coroutine),
    reinterpret_cast<const void *>(&coroscope::detail::end_coroutine),
    reinterpret_cast<const void *>(&coroscope::detail::on_slow_step),
    reinterpret_cast<const void *>(&coroscope::detail::on_long_wait),
    reinterpret_cast<const void *>(&coroscope::detail::trace_step),
    reinterpret_cast<const void *>(&coroscope::detail::record_failure),
    reinterpret_cast<const void *>(&coroscope::detail::name_frame),
    reinterpret_cast<const void *>(&coroscope::detail::lock_waiting),
    reinterpret_cast<const void *>(&coroscope::detail::lock_acquired),
    reinterpret_cast<const void *>(&coroscope::detail::lock_released),
    reinterpret_cast<const void *>(&coroscope::detail::resumed_holding_locks),
    reinterpret_cast<const void *>(&coroscope::detail::ended_holding_locks),
    reinterpret_cast<const void *>(&coroscope_never_started),
    reinterpret_cast<const void *>(&coroscope_coroutine_created),
    reinterpret_cast<const void *>(&coroscope_coroutine_starting),
    reinterpret_cast<const void *>(&coroscope_ir_created),
    reinterpret_cast<const void *>(&coroscope_ir_creating),
    reinterpret_cast<const void *>(&coroscope_ir_begin),
    reinterpret_cast<const void *>(&coroscope_ir_suspend),
    reinterpret_cast<const void *>(&coroscope_ir_resume),
    reinterpret_cast<const void *>(&coroscope_ir_failed),
    reinterpret_cast<const void *>(&coroscope_ir_end),
    reinterpret_cast<const void *>(&coroscope_ir_destroyed),
    reinterpret_cast<const void *>(&coroscope_ir_unwound),
    reinterpret_cast<const void *>(&coroscope_ir_lock_waiting),
    reinterpret_cast<const void *>(&coroscope_ir_lock_acquired),
    reinterpret_cast<const void *>(&coroscope_ir_lock_released),
};
