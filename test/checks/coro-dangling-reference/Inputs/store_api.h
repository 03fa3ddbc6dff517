// A header that declares and defines coroutines used by the test's TU.
#pragma once

#include <coro_test/tasks.h>

#include <string>

namespace store {
inline folly::coro::Task<int> put(const std::string &key) {
  co_return static_cast<int>(key.size());
}
template <typename Key> cppcoro::task<int> get(const Key &key) {
  co_return static_cast<int>(key.size());
}
} // namespace store
