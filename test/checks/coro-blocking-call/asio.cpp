// RUN: %check_coro_tidy %s coro-blocking-call %t -- -- %asio_flags

// Real coroutine code on Debian's standalone Asio: asio::awaitable,
// co_spawn, use_awaitable. Synchronous Asio calls and running an event loop
// inside a coroutine are reported; their async_* counterparts are not.

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <string>

#if !defined(ASIO_HAS_CO_AWAIT)
#error "asio::awaitable needs ASIO_HAS_CO_AWAIT"
#endif

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

awaitable<void> session(tcp::socket socket) {
  char data[1024];
  for (;;) {
    std::size_t n = co_await socket.async_read_some(asio::buffer(data), use_awaitable);
    co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
    socket.read_some(asio::buffer(data));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'asio::ip::tcp::socket::read_some' on 'socket' blocks the thread while coroutine 'session' runs; blocking I/O stalls every coroutine on this thread [coro-blocking-call]
    asio::write(socket, asio::buffer(data, n));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'asio::write' blocks {{.*}}; blocking I/O
  }
}

awaitable<void> ticker(asio::io_context &io) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(10ms);
  co_await timer.async_wait(use_awaitable);
  timer.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'asio::steady_timer::wait' on 'timer' blocks {{.*}}; blocking I/O
  io.run();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'asio::io_context::run' on 'io' blocks the thread while coroutine 'ticker' runs; running an event loop or waiting synchronously stalls every coroutine on this thread
  io.run_one_for(1ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'asio::io_context::run_one_for' on 'io' blocks
  io.poll(); // runs ready handlers only
  io.stop();
}

awaitable<std::string> resolve(tcp::resolver &resolver) {
  auto results = resolver.resolve("localhost", "80");
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'asio::ip::tcp::resolver::resolve' on 'resolver' blocks {{.*}}; blocking I/O
  auto async_results = co_await resolver.async_resolve("localhost", "80", use_awaitable);
  co_return async_results.begin()->host_name();
}

awaitable<void> listener(tcp::acceptor &acceptor) {
  using namespace asio::experimental::awaitable_operators;
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(socket.get_executor(), session(std::move(socket)), asio::detached);
    tcp::socket blocking = acceptor.accept();
    // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: 'asio::ip::tcp::acceptor::accept' on 'acceptor' blocks
  }
}

int main() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {tcp::v4(), 0});
  asio::co_spawn(io, listener(acceptor), asio::detached);
  io.run(); // not in a coroutine
}
