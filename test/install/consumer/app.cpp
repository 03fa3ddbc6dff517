// A user's Asio program, instrumented by coroscope_instrument() alone.
#include <asio.hpp>
#include <chrono>
#include <cstdio>

asio::awaitable<int> tick(int n) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < n; ++i) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return n;
}

asio::awaitable<void> run() {
  int ticks = co_await tick(3);
  std::printf("ticked %d times\n", ticks);
}

int main() {
  asio::io_context io;
  asio::co_spawn(io, run(), asio::detached);
  io.run();
}
