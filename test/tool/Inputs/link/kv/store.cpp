#include "store.h"
#include <chrono>
#include <thread>

namespace kv {
static void wait_for_disk() {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void Store::put(const std::string &key, const std::string &value) {
  wait_for_disk();
}

std::string Store::get(const std::string &key) const { return key; }

void Store::compact() {}

void replay(int depth) {
  if (depth > 0)
    journal(depth - 1);
}

void ping(int depth) {
  if (depth > 0)
    pong(depth - 1);
}
} // namespace kv
