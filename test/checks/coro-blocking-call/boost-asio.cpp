// RUN: %check_coro_tidy %s coro-blocking-call %t -- -- -DBOOST_ASIO_HAS_CO_AWAIT

// The same rules on Boost.Asio: boost::asio names are in the catalogue too.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <chrono>

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "boost::asio::awaitable needs BOOST_ASIO_HAS_CO_AWAIT"
#endif

namespace net = boost::asio;
using net::ip::tcp;

net::awaitable<void> echo(tcp::socket socket, net::io_context &io) {
  char data[512];
  std::size_t n = co_await socket.async_read_some(net::buffer(data), net::use_awaitable);
  net::read(socket, net::buffer(data, n));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'boost::asio::read' blocks the thread while coroutine 'echo' runs; blocking I/O stalls every coroutine on this thread [coro-blocking-call]
  socket.write_some(net::buffer(data, n));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'boost::asio::ip::tcp::socket::write_some' on 'socket' blocks
  io.run_for(std::chrono::milliseconds(1));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'boost::asio::io_context::run_for' on 'io' blocks {{.*}}; running an event loop
  co_await net::async_write(socket, net::buffer(data, n), net::use_awaitable);
}

int main() {
  net::io_context io;
  tcp::socket socket(io);
  net::co_spawn(io, echo(std::move(socket), io), net::detached);
  io.run();
}
