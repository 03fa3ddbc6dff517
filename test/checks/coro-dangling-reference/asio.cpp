// RUN: %check_coro_tidy %s coro-dangling-reference %t -- -- %asio_flags

// Debian's standalone Asio: co_spawn posts the awaitable, so it never runs
// before the statement that spawned it ends, and a temporary it refers to
// is already gone. Awaiting the spawn in place, or spawning with locals that
// the program keeps alive while io_context::run() runs, is fine.

#include <asio.hpp>

#include <string>

using asio::awaitable;
using asio::detached;
using asio::use_awaitable;

awaitable<void> greet(const std::string &greeting) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  co_await timer.async_wait(use_awaitable);
  std::string copy = greeting;
}

awaitable<void> server(asio::io_context &ctx) {
  co_await asio::co_spawn(ctx, greet(std::string("in place")), use_awaitable);
  co_await greet(std::string("awaited"));
}

int main() {
  asio::io_context ctx;
  asio::co_spawn(ctx, greet(std::string("hello")), detached);
  // CHECK-NOTES: :[[@LINE-1]]:29: warning: reference parameter 'greeting' of lazy task 'greet' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is spawned by 'asio::co_spawn' and runs after this statement [coro-dangling-reference]
  // CHECK-NOTES: :19:22: note: 'greet' reads 'greeting' here, when the task runs
  // CHECK-FIXES: {{^}}awaitable<void> greet(std::string greeting) {{{$}}
  std::string kept = "kept";
  asio::co_spawn(ctx, greet(kept), detached);
  asio::co_spawn(ctx, server(ctx), detached);
  ctx.run();
}
