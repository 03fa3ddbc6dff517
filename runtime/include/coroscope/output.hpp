// Writing an output file without destroying what is at its path. Shared by
// the runtime's report and trace writers and by coroscope's tools; internal,
// not part of the stable user API.
//
// The rules (docs/runtime/README.md, "Output files"):
//   - "-" and /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N write to
//     that descriptor, never reopening or replacing it;
//   - a symlink is followed: its target is written, the link stays;
//   - a device, FIFO or socket is written directly;
//   - a regular file or a missing path is replaced atomically: a temporary
//     beside it, written, fsync'ed, then renamed over it (keeping the old
//     file's permissions). The temporary is removed on every failure, and a
//     signal handler can remove it with remove_temporaries_now();
//   - any failed write, fsync, close or rename is an error.
#pragma once

#include <string>
#include <string_view>

namespace coroscope::output {

enum class status { written, exists, failed };

struct options {
  // Fail with status::exists instead of replacing a file that exists at
  // rename time.
  bool no_replace = false;
  // In an instrumented program: never block opening a FIFO that has no
  // reader, and turn SIGPIPE into an error instead of a dead process.
  bool in_host_process = false;
};

// Writes `contents` to `path`; on failure sets `error` to the reason, one
// line without the path ("No space left on device").
status write_file(const std::string &path, std::string_view contents, std::string &error,
                  const options &how = {});

// Async-signal-safe: unlinks the temporaries being written right now.
void remove_temporaries_now() noexcept;

// For tests: called once a temporary exists, before it is written.
void set_temporary_hook_for_testing(void (*hook)(const char *temporary));

} // namespace coroscope::output
