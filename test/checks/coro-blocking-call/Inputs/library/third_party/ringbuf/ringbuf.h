// A vendored single-producer queue under third_party/: library code by path.
#pragma once
#include <atomic>
#include <unistd.h>

namespace ringbuf {
struct queue {
  bool try_push(int) { return true; }
  void push(int value) {
    for (int spins = 0; !try_push(value); ++spins)
      if (spins > 1000)
        ::usleep(1);
  }
};
} // namespace ringbuf
