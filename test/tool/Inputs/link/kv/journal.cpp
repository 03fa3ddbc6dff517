#include "store.h"
#include <sys/epoll.h>
#include <unistd.h>

namespace kv {
void journal(int depth) {
  if (depth == 0) {
    ::usleep(100);
    return;
  }
  replay(depth);
}

void pong(int depth) {
  if (depth > 0)
    ping(depth - 1);
}

void housekeeping(Store &store) { refresh(store); }

static int next_event(int fd, bool wait) {
  epoll_event event{};
  return ::epoll_wait(fd, &event, 1, wait ? -1 : 0);
}

int poll_events(int fd) {
  constexpr bool wait = false;
  return next_event(fd, wait);
}

int wait_events(int fd, bool wait) { return next_event(fd, wait); }
} // namespace kv
