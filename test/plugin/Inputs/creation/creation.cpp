// Where each coroutine was created, and by whom, as the runtime records it
// (test/plugin/creation-sites.test). Each leaf prints its creator's
// function and the creation site the runtime gave it.
#include "coro_test/tasks.h"

#include <coroscope/coroscope.hpp>

#include <cstdio>
#include <thread>

using cppcoro::task;

namespace {

void show(const char *what) {
  coroscope::frame *self = coroscope::current();
  if (self == nullptr) {
    std::printf("%s: untracked\n", what);
    return;
  }
  const coroscope::site *at = self->creation_site_;
  const coroscope::site *by = self->creator_body_;
  std::printf("%s: created by %s at line %u, column %u\n", what,
              by != nullptr ? by->function : "-", at != nullptr ? at->line : 0,
              at != nullptr ? at->column : 0);
}

task<int> leaf(const char *what) {
  show(what);
  co_return 1;
}

struct fire_and_forget {
  struct promise_type {
    fire_and_forget get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};

fire_and_forget eager(const char *what) {
  show(what);
  co_return;
}

struct worker {
  task<int> run(const char *what) {
    show(what);
    co_return 2;
  }
};

task<int> parent() {
  int sum = 0;
  sum += co_await leaf("awaited where made");
  auto later = leaf("made, awaited later");
  sum += co_await std::move(later);
  eager("eager, not awaited");
  worker w;
  sum += co_await w.run("member, awaited");
  auto by_lambda = [](const char *what) -> task<int> {
    show(what);
    co_return 3;
  };
  auto made_by_lambda = by_lambda("lambda, awaited later");
  sum += co_await std::move(made_by_lambda);
  // Started on another thread, long after it was made.
  std::thread elsewhere([t = leaf("started on another thread")]() mutable {
    cppcoro::sync_wait(t);
  });
  elsewhere.join();
  co_return sum;
}

} // namespace

int main() {
  auto top = parent();
  cppcoro::sync_wait(top);
  return 0;
}
