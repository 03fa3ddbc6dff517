// RUN: %check_coro_tidy %s coro-blocking-call %t

// POSIX descriptor calls that do not block: MSG_DONTWAIT, descriptors made
// non-blocking, calls that handle EAGAIN, and descriptors awaited for
// readiness (libcoro's "try; on EAGAIN co_await poll(); retry" shape). The
// same calls on descriptors with none of these signs are still reported.

#include <coro_test/tasks.h>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum class poll_status { ready, timeout };

struct io_scheduler {
  cppcoro::task<poll_status> poll(int fd);
};

struct owned_socket {
  int native_handle() const { return fd; }
  int fd = -1;
};

// libcoro's tcp::client: recv() is a plain helper; the class awaits its
// socket for readiness in poll(), so the socket is in the readiness style.
class client {
public:
  cppcoro::task<poll_status> poll() { return m_scheduler->poll(m_socket.fd); }

  long recv(char *data, unsigned long size) {
    return ::recv(m_socket.native_handle(), data, size, 0);
  }

  cppcoro::task<long> read_some(char *data, unsigned long size) {
    long n = recv(data, size);
    if (n >= 0)
      co_return n;
    co_await poll();
    co_return recv(data, size);
  }

private:
  io_scheduler *m_scheduler = nullptr;
  owned_socket m_socket;
};

// The result is checked for EAGAIN in the function that makes the call.
cppcoro::task<int> connect_async(io_scheduler &scheduler, int fd,
                                 const sockaddr *address, socklen_t length) {
  int rc = ::connect(fd, address, length);
  if (rc == -1 && (errno == EAGAIN || errno == EINPROGRESS))
    co_await scheduler.poll(fd);
  co_return rc;
}

cppcoro::task<long> peek(int fd, char *data) {
  co_return ::recv(fd, data, 1, MSG_DONTWAIT | MSG_PEEK);
}

cppcoro::task<long> configured_here(char *data) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  co_return ::read(fd, data, 16);
}

cppcoro::task<long> created_non_blocking(char *data) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  co_return ::send(fd, data, 16, 0);
}

cppcoro::task<long> ioctl_non_blocking(int fd, char *data) {
  int on = 1;
  ::ioctl(fd, FIONBIO, &on);
  co_return ::write(fd, data, 16);
}

// Still blocking: nothing shows these descriptors are non-blocking.
class blocking_client {
public:
  long recv(char *data, unsigned long size) {
    return ::recv(m_fd, data, size, 0);
  }
  cppcoro::task<long> read_some(char *data, unsigned long size) {
    long n = recv(data, size);
    // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: 'blocking_client::recv' blocks the thread while coroutine 'blocking_client::read_some' runs; it reaches 'recv' (blocking I/O) [coro-blocking-call]
    co_return n;
  }

private:
  int m_fd = -1;
};

cppcoro::task<long> plain_read(int fd, char *data) {
  long n = ::read(fd, data, 16);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'read' blocks the thread while coroutine 'plain_read' runs; blocking I/O stalls every coroutine on this thread [coro-blocking-call]
  co_return n;
}

// accept4 with SOCK_NONBLOCK makes the accepted descriptor non-blocking;
// the listening one may still block.
cppcoro::task<int> accept_blocking(int listener) {
  int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'accept4' blocks the thread while coroutine 'accept_blocking' runs; blocking I/O
  co_return fd;
}

// Flags other than MSG_DONTWAIT leave the call blocking.
cppcoro::task<long> peek_blocking(int fd, char *data) {
  co_return ::recv(fd, data, 1, MSG_PEEK);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'recv' blocks the thread while coroutine 'peek_blocking' runs; blocking I/O
}

// libcoro's pipe_t: the descriptors are made non-blocking in a range-for
// over the member array, and written through an accessor.
class wake_pipe {
public:
  wake_pipe() {
    ::pipe(m_fds);
    for (const auto &fd : m_fds)
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  int write_fd() const { return m_fds[1]; }
  cppcoro::task<long> wake() {
    char byte = 1;
    co_return ::write(write_fd(), &byte, 1);
  }

private:
  int m_fds[2];
};

// The same with std::array, an out-of-line accessor and the flags built in
// a variable first, as libcoro writes it.
class array_pipe {
public:
  array_pipe() {
    ::pipe(m_fds.data());
    for (const auto &fd : m_fds) {
      int flags = ::fcntl(fd, F_GETFL);
      flags |= O_NONBLOCK;
      ::fcntl(fd, F_SETFL, flags);
    }
  }
  const int &write_fd() const;
  cppcoro::task<long> wake() {
    char byte = 1;
    co_return ::write(write_fd(), &byte, 1);
  }

private:
  std::array<int, 2> m_fds{-1};
};
const int &array_pipe::write_fd() const { return m_fds[1]; }

// cppcoro's message_queue: pipe2 with O_NONBLOCK.
class message_pipe {
public:
  message_pipe() { ::pipe2(m_pipefd, O_NONBLOCK); }
  cppcoro::task<long> post() {
    char byte = 1;
    co_return ::write(m_pipefd[1], &byte, 1);
  }

private:
  int m_pipefd[2];
};

// The same shapes without the flag still block.
class blocking_pipe {
public:
  blocking_pipe() {
    ::pipe(m_fds);
    for (const auto &fd : m_fds)
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  int write_fd() const { return m_fds[1]; }
  cppcoro::task<long> wake() {
    char byte = 1;
    co_return ::write(write_fd(), &byte, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'write' blocks the thread while coroutine 'blocking_pipe::wake' runs; blocking I/O
  }

private:
  int m_fds[2];
};
