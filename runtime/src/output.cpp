#include "coroscope/output.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace coroscope::output {
namespace {

// Temporaries in flight, readable from a signal handler. A slot is free (0),
// claimed while its path is copied in (1), or published (2); a handler reads
// only published paths.
struct temporary_slot {
  std::atomic<int> state{0};
  char path[4096];
};
constexpr int kSlots = 8;
temporary_slot g_slots[kSlots];
std::atomic<unsigned> g_counter{0};
std::atomic<void (*)(const char *)> g_hook{nullptr};

class registered_temporary {
public:
  explicit registered_temporary(const std::string &path) {
    if (path.size() >= sizeof g_slots[0].path)
      return;
    for (temporary_slot &slot : g_slots) {
      int expected = 0;
      if (!slot.state.compare_exchange_strong(expected, 1, std::memory_order_acquire))
        continue;
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.state.store(2, std::memory_order_release);
      slot_ = &slot;
      return;
    }
  }
  ~registered_temporary() {
    if (slot_ != nullptr)
      slot_->state.store(0, std::memory_order_release);
  }
  registered_temporary(const registered_temporary &) = delete;
  registered_temporary &operator=(const registered_temporary &) = delete;

private:
  temporary_slot *slot_ = nullptr;
};

std::string describe_errno(int error) { return std::strerror(error); }

std::string parent_of(const std::string &path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string &path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The descriptor a path names without opening anything: "-" and the
// /dev/std* and fd aliases. -1 for any other path.
int descriptor_alias(const std::string &path) {
  if (path == "-" || path == "/dev/stdout")
    return 1;
  if (path == "/dev/stderr")
    return 2;
  for (const char *prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    std::size_t n = std::strlen(prefix);
    if (path.compare(0, n, prefix) != 0 || path.size() == n)
      continue;
    int fd = 0;
    for (std::size_t i = n; i < path.size(); ++i) {
      if (path[i] < '0' || path[i] > '9' || fd > 1'000'000)
        return -1;
      fd = fd * 10 + (path[i] - '0');
    }
    return fd;
  }
  return -1;
}

// Blocks SIGPIPE on this thread while it lives and discards one raised by
// its writes, so a reader that went away is an EPIPE error, not a death.
class sigpipe_guard {
public:
  explicit sigpipe_guard(bool active) : active_(active) {
    if (!active_)
      return;
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &saved_);
  }
  ~sigpipe_guard() {
    if (!active_)
      return;
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      timespec zero{};
      sigtimedwait(&pipe_only, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard &) = delete;
  sigpipe_guard &operator=(const sigpipe_guard &) = delete;

private:
  bool active_;
  bool was_pending_ = false;
  sigset_t saved_{};
};

// Writes everything or returns the errno of the failure.
int write_all(int fd, std::string_view contents) {
  const char *data = contents.data();
  std::size_t left = contents.size();
  while (left != 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      return EIO; // a short write that makes no progress
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

// `error` is the reason alone; the caller names the file.
status fail(std::string &error, const std::string &what, const std::string &path, int code) {
  (void)path;
  error = what.empty() ? describe_errno(code) : what + ": " + describe_errno(code);
  return status::failed;
}

status write_descriptor(int fd, const std::string &path, std::string_view contents,
                        std::string &error, const options &how) {
  if (::fcntl(fd, F_GETFD) < 0)
    return fail(error, "", path, errno);
  sigpipe_guard guard(how.in_host_process);
  if (int code = write_all(fd, contents))
    return fail(error, "", path, code);
  return status::written;
}

status write_special(const std::string &path, std::string_view contents, std::string &error,
                     const options &how, bool is_fifo) {
  int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC;
  // Opening a FIFO with no reader would wait for one forever.
  if (is_fifo && how.in_host_process)
    flags |= O_NONBLOCK;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    if (errno == ENXIO && is_fifo)
      error = "no process is reading the FIFO";
    else
      fail(error, "", path, errno);
    return status::failed;
  }
  if (flags & O_NONBLOCK)
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  status result = write_descriptor(fd, path, contents, error, how);
  if (::close(fd) != 0 && result == status::written && errno != EINTR)
    return fail(error, "", path, errno);
  return result;
}

status replace_atomically(const std::string &path, const struct stat *existing,
                          std::string_view contents, std::string &error, const options &how) {
  std::string temporary;
  std::optional<registered_temporary> registered;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temporary = parent_of(path) + "/." + base_of(path) + ".tmp." + std::to_string(::getpid()) +
                "." + std::to_string(g_counter.fetch_add(1, std::memory_order_relaxed));
    // Registered before it exists, so no signal finds it unregistered.
    registered.reset();
    registered.emplace(temporary);
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      return fail(error, "", path, errno);
  }
  if (fd < 0)
    return fail(error, "", path, EEXIST);
  auto discard = [&](int code, const char *what) {
    ::close(fd);
    ::unlink(temporary.c_str());
    return fail(error, what, path, code);
  };
  if (auto hook = g_hook.load(std::memory_order_acquire))
    hook(temporary.c_str());
  if (existing != nullptr)
    ::fchmod(fd, existing->st_mode & 07777);
  if (int code = write_all(fd, contents))
    return discard(code, "");
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    return discard(errno, "");
  if (::close(fd) != 0) {
    int code = errno;
    ::unlink(temporary.c_str());
    return fail(error, "", path, code);
  }
  int renamed;
  if (how.no_replace) {
    renamed = ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // A file system without RENAME_NOREPLACE: link() fails when the name exists.
      renamed = ::link(temporary.c_str(), path.c_str());
      if (renamed == 0)
        ::unlink(temporary.c_str());
    }
  } else {
    renamed = ::rename(temporary.c_str(), path.c_str());
  }
  if (renamed != 0) {
    int code = errno;
    ::unlink(temporary.c_str());
    if (code == EEXIST && how.no_replace)
      return status::exists;
    return fail(error, "cannot rename the temporary file over it", path, code);
  }
  // The rename itself survives a crash only once the directory is synced.
  int directory = ::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
  return status::written;
}

} // namespace

status write_file(const std::string &path, std::string_view contents, std::string &error,
                  const options &how) {
  if (path.empty()) {
    error = "the file name is empty";
    return status::failed;
  }
  std::string target = path;
  struct stat info {};
  bool exists = false;
  for (int hops = 0;; ++hops) {
    if (int fd = descriptor_alias(target); fd >= 0)
      return write_descriptor(fd, path, contents, error, how);
    if (::lstat(target.c_str(), &info) != 0) {
      if (errno != ENOENT)
        return fail(error, "", path, errno);
      break;
    }
    if (!S_ISLNK(info.st_mode)) {
      exists = true;
      break;
    }
    if (hops == 40)
      return fail(error, "", path, ELOOP);
    char buffer[4096];
    ssize_t n = ::readlink(target.c_str(), buffer, sizeof buffer - 1);
    if (n < 0)
      return fail(error, "", path, errno);
    std::string link(buffer, static_cast<std::size_t>(n));
    target = link.front() == '/' ? link : parent_of(target) + "/" + link;
  }
  if (!exists)
    return replace_atomically(target, nullptr, contents, error, how);
  if (S_ISDIR(info.st_mode))
    return fail(error, "", path, EISDIR);
  if (S_ISREG(info.st_mode)) {
    if (how.no_replace)
      return status::exists;
    return replace_atomically(target, &info, contents, error, how);
  }
  return write_special(target, contents, error, how, S_ISFIFO(info.st_mode));
}

void remove_temporaries_now() noexcept {
  for (temporary_slot &slot : g_slots)
    if (slot.state.load(std::memory_order_acquire) == 2)
      ::unlink(slot.path);
}

void set_temporary_hook_for_testing(void (*hook)(const char *)) {
  g_hook.store(hook, std::memory_order_release);
}

} // namespace coroscope::output
