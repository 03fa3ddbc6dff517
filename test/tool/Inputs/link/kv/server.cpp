#include "store.h"
#include <coro_test/tasks.h>

namespace kv {
cppcoro::task<int> handle_put(Store &store) {
  store.put("k", "v");
  refresh(store);
  co_return 0;
}

cppcoro::task<int> handle_bulk(Store &store) {
  std::map<std::string, std::string> items{{"a", "1"}};
  put_all(store, items);
  co_return 1;
}

cppcoro::task<int> handle_replay() {
  replay(2);
  ping(3);
  co_return 2;
}

cppcoro::task<std::string> handle_get(const Store &store) {
  co_return store.get("k");
}

// Only the last call waits: the others pass what makes epoll_wait poll.
cppcoro::task<int> handle_events(int fd) {
  int polled = poll_events(fd);
  int ready = wait_events(fd, false);
  int waited = wait_events(fd, true);
  co_return polled + ready + waited;
}
} // namespace kv
