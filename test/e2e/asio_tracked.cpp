// A small Asio service instrumented by hand with the COROSCOPE_* macros. The
// e2e tests run it with the report, the trace and the summary on, then check
// what they say. Each function has one behaviour the runtime must see:
//   handler/fetch  five requests, request 3 fails with std::runtime_error
//   slow_handler   blocks its thread for 150 ms between two awaits
//   long_wait      waits 300 ms on a timer (a hang at COROSCOPE_HANG_MS=100)
//   parked         still waiting when the io_context is destroyed: cancelled
//   forgotten      on an io_context never destroyed: leaked at exit
#include <asio.hpp>
#include <coroscope/coroscope.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;

namespace {

std::atomic<int> remaining{7};

void one_done(asio::io_context &ctx) {
  if (--remaining == 0)
    ctx.stop();
}

asio::awaitable<int> fetch(int id) {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
    COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
    if (id == 3)
      throw std::runtime_error("fetch 3 failed");
    COROSCOPE_RETURN(id * 10);
  }
  COROSCOPE_CATCH
}

asio::awaitable<int> handler(int id) {
  COROSCOPE_CORO();
  COROSCOPE_TRY {
    int value = COROSCOPE_AWAIT_CHILD(fetch(id));
    COROSCOPE_RETURN(value + 1);
  }
  COROSCOPE_CATCH
}

asio::awaitable<void> slow_handler() {
  COROSCOPE_CORO();
  asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
  COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
  std::this_thread::sleep_for(150ms); // the bug: blocks the executor thread
  timer.expires_after(1ms);
  COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
  COROSCOPE_RETURN();
}

asio::awaitable<void> long_wait() {
  COROSCOPE_CORO();
  asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
  COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
  COROSCOPE_RETURN();
}

asio::awaitable<void> parked() {
  COROSCOPE_CORO();
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
  COROSCOPE_RETURN();
}

asio::awaitable<void> forgotten() {
  COROSCOPE_CORO();
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  COROSCOPE_AWAIT(timer.async_wait(asio::use_awaitable));
  COROSCOPE_RETURN();
}

} // namespace

int main() {
  // Never destroyed, so the coroutine on it is still suspended at exit.
  auto *background = new asio::io_context;
  asio::co_spawn(*background, forgotten(), asio::detached);
  background->poll();

  asio::io_context ctx;
  int failures = 0;
  for (int id = 1; id <= 5; ++id)
    asio::co_spawn(ctx, handler(id), [&, id](std::exception_ptr error, int value) {
      if (error) {
        ++failures;
      } else {
        std::printf("request %d -> %d\n", id, value);
      }
      one_done(ctx);
    });
  asio::co_spawn(ctx, slow_handler(), [&](std::exception_ptr) { one_done(ctx); });
  asio::co_spawn(ctx, long_wait(), [&](std::exception_ptr) { one_done(ctx); });
  asio::co_spawn(ctx, parked(), asio::detached);

  std::thread second([&] { ctx.run(); });
  ctx.run();
  second.join();
  std::printf("failures: %d\n", failures);
  return failures == 1 ? 0 : 1;
}
