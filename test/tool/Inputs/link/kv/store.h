// A key-value store and the coroutines that serve it. The store's methods
// are defined in store.cpp and journal.cpp, the coroutines in server.cpp:
// no single translation unit shows that the coroutines block.
#pragma once
#include <map>
#include <string>

namespace kv {
class Store {
public:
  void put(const std::string &key, const std::string &value);
  std::string get(const std::string &key) const;
  void compact();
};

// journal() and replay() call each other across two TUs; journal() blocks
// at the bottom. ping() and pong() recurse the same way and never block.
void journal(int depth);
void replay(int depth);
void ping(int depth);
void pong(int depth);

// A template defined here and instantiated in server.cpp: its chain goes
// on into store.cpp.
template <class Items> void put_all(Store &store, const Items &items) {
  for (const auto &[key, value] : items)
    store.put(key, value);
}

// Inline, summarised by every TU that uses it, the same way.
inline void refresh(Store &store) { store.compact(); }
// In journal.cpp: next_event() waits for an event only when asked to.
int poll_events(int fd);
int wait_events(int fd, bool wait);
} // namespace kv
