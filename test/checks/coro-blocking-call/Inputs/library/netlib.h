// A non-system copy of an Asio-like library (included with -I, as Asio's own
// examples are built): its internals lock and back off, its synchronous
// operations block.
#pragma once
#include <pthread.h>
#include <unistd.h>

namespace asio {
namespace detail {
struct posix_mutex {
  void lock() { ::pthread_mutex_lock(&mutex); }
  void unlock() { ::pthread_mutex_unlock(&mutex); }
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
};
inline posix_mutex &registry_mutex() {
  static posix_mutex mutex;
  return mutex;
}
// A lock-free queue's contention back-off: it waits for no event.
inline void back_off(int spins) {
  if (spins > 1000)
    ::usleep(1);
}
} // namespace detail

struct steady_timer {
  steady_timer() {
    detail::registry_mutex().lock();
    detail::registry_mutex().unlock();
  }
  void expires_after(int) { detail::back_off(2000); }
};
struct socket {
  int fd = -1;
};
inline long write(socket &s, const char *data, unsigned long size) {
  return ::write(s.fd, data, size);
}
} // namespace asio
