// RUN: %check_coro_tidy %s coro-unawaited-task %t -- -- %asio_flags

// Real coroutine code on Debian's standalone Asio. asio::awaitable has no
// await_* members and no operator co_await: it is awaitable only through its
// own promise's await_transform, and its promise comes from a
// std::coroutine_traits partial specialization. The check finds all of that
// structurally. Everything an Asio program does with awaitables correctly is
// silent.

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#if !defined(ASIO_HAS_CO_AWAIT)
#error "asio::awaitable needs ASIO_HAS_CO_AWAIT"
#endif

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

awaitable<void> notify(int id) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 1ms);
  co_await timer.async_wait(use_awaitable);
}
awaitable<std::size_t> echo_once(tcp::socket &socket) {
  char data[64];
  std::size_t n = co_await socket.async_read_some(asio::buffer(data), use_awaitable);
  co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
  co_return n;
}

awaitable<void> session(tcp::socket socket) {
  notify(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'asio::awaitable<void>' returned by 'notify' is discarded without being awaited; its body never runs [coro-unawaited-task]
  // CHECK-FIXES: {{^}}  co_await notify(1);{{$}}

  // An Asio operation with use_awaitable returns an awaitable too.
  char data[16];
  socket.async_read_some(asio::buffer(data), use_awaitable);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'asio::awaitable<unsigned long>' returned by 'asio::basic_stream_socket::async_read_some' is discarded
  // CHECK-FIXES: {{^}}  co_await socket.async_read_some(asio::buffer(data), use_awaitable);{{$}}

  // Stored and forgotten.
  auto pending = echo_once(socket);
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: variable 'pending' holds task 'asio::awaitable<unsigned long>' returned by 'echo_once', which is never awaited, moved or passed on; its body never runs

  // The ok ways.
  co_await notify(2);
  std::size_t n = co_await echo_once(socket);
  auto later = echo_once(socket);
  n += co_await std::move(later);
  co_await (notify(3) && notify(4));
  co_await (notify(5) || notify(6));
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, notify(7), asio::detached);
  asio::co_spawn(executor, notify(8), [](std::exception_ptr) {});
  co_await asio::co_spawn(executor, notify(9), use_awaitable);
  auto child = notify(10);
  asio::co_spawn(executor, std::move(child), asio::detached);
  (void)n;
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'pending' goes out of scope here

// Outside a coroutine: reported, no fix-it.
int main() {
  asio::io_context io;
  notify(11);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'asio::awaitable<void>' returned by 'notify' is discarded without being awaited; its body never runs
  // CHECK-FIXES: {{^}}  notify(11);{{$}}
  asio::co_spawn(io, notify(12), asio::detached);
  asio::co_spawn(io, session(tcp::socket(io)), asio::detached);
  std::vector<awaitable<void>> batch;
  batch.push_back(notify(13));
  for (auto &each : batch)
    asio::co_spawn(io, std::move(each), asio::detached);
  io.run();
}

// A class that keeps its coroutines as members, as servers do.
class server {
public:
  explicit server(asio::io_context &io) : acceptor_(io) {}
  awaitable<void> run() {
    refresh();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: task 'asio::awaitable<void>' returned by 'server::refresh' is discarded
    // CHECK-FIXES: {{^}}    co_await refresh();{{$}}
    this->refresh();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: task 'asio::awaitable<void>' returned by 'server::refresh' is discarded
    // CHECK-FIXES: {{^}}    co_await this->refresh();{{$}}
    co_await refresh();
    asio::co_spawn(acceptor_.get_executor(), refresh(), asio::detached);
  }

private:
  awaitable<void> refresh() { co_return; }
  tcp::acceptor acceptor_;
};
