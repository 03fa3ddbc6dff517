// A program to read from outside (test/tool/ps.test): an Asio io_context
// with a tree of awaiting coroutines whose leaf is parked on an hour-long
// timer, a ticker that keeps printing, and two coroutines that deadlock
// each other through events; and a second thread whose coroutine spins in
// one step (a slow step in progress). It runs until the file argv[1] exists.
#include <asio.hpp>
#include <asio/experimental/channel.hpp>
#include <coroscope/coroscope.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> stopping{false};

// An event: a channel that one coroutine sends to once. (Asio 1.22's
// channel of void(error_code) alone does not compile under clang.)
using event = asio::experimental::channel<void(asio::error_code, int)>;

std::uint64_t running_id() {
  coroscope::frame *f = coroscope::current();
  return f != nullptr ? f->id() : 0;
}

awaitable<int> fetch(int key) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  co_await timer.async_wait(use_awaitable); // parked: an hour
  co_return key;
}

awaitable<int> collect() {
  int a = co_await fetch(1); // collect awaits fetch
  co_return a;
}

// Each waits for the other's event, which the other sets only after its own
// wait: neither ever runs again.
awaitable<void> half(event &mine, event &theirs, std::uint64_t &my_id,
                     const std::uint64_t &their_id) {
  my_id = running_id();
  co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
  coroscope::waiting_for(their_id);
  co_await theirs.async_receive(use_awaitable); // deadlock
  mine.async_send(asio::error_code{}, 1, asio::detached);
}

awaitable<void> ticker(const char *stop_file, asio::io_context &ctx) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int tick = 1;; ++tick) {
    timer.expires_after(20ms);
    co_await timer.async_wait(use_awaitable);
    std::printf("tick %d\n", tick);
    if (tick == 5)
      std::printf("ready\n");
    std::fflush(stdout);
    if (std::filesystem::exists(stop_file)) {
      std::printf("stopped cleanly after %d ticks\n", tick);
      stopping = true;
      ctx.stop();
      co_return;
    }
  }
}

// The spinner's thread starts after the supervisor: the coroutines of the
// main thread have the first ids.
awaitable<void> supervisor(const char *stop_file, asio::io_context &ctx, event &a, event &b,
                           std::uint64_t (&ids)[2], std::function<void()> start_spinner) {
  auto ex = co_await asio::this_coro::executor;
  asio::co_spawn(ex, ticker(stop_file, ctx), asio::detached);
  asio::co_spawn(ex, half(a, b, ids[0], ids[1]), asio::detached);
  asio::co_spawn(ex, half(b, a, ids[1], ids[0]), asio::detached);
  start_spinner();
  co_await collect(); // the supervisor awaits collect
}

awaitable<void> spin() {
  while (!stopping.load()) // one step that never suspends
    std::this_thread::yield();
  co_return;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: parked STOP-FILE\n");
    return 2;
  }
  asio::io_context spin_ctx;
  asio::co_spawn(spin_ctx, spin(), asio::detached);
  std::thread spinner;

  asio::io_context ctx;
  event a(ctx, 1), b(ctx, 1);
  std::uint64_t ids[2] = {};
  asio::co_spawn(ctx,
                 supervisor(argv[1], ctx, a, b, ids,
                            [&] { spinner = std::thread([&] { spin_ctx.run(); }); }),
                 asio::detached);
  ctx.run();
  stopping = true;
  if (spinner.joinable())
    spinner.join();
  return 0;
}
