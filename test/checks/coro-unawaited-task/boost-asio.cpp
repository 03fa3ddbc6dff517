// RUN: %check_coro_tidy %s coro-unawaited-task %t -- -- -DBOOST_ASIO_HAS_CO_AWAIT

// Boost.Asio's awaitable, found by the same structural test. The ok cases
// are the idioms of Boost's own coroutine examples (echo and chat servers):
// co_spawn with detached or a handler, the redirect_error token, and a
// listener spawned from main. (Debian's Boost 1.74 has Asio 1.18: no
// as_tuple and no awaitable operators yet.)

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <chrono>
#include <deque>
#include <string>

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "boost::asio::awaitable needs BOOST_ASIO_HAS_CO_AWAIT"
#endif

namespace net = boost::asio;
using net::awaitable;
using net::detached;
using net::use_awaitable;
using net::ip::tcp;
using namespace std::chrono_literals;

awaitable<void> echo(tcp::socket socket) {
  char data[1024];
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await socket.async_read_some(
        net::buffer(data), net::redirect_error(use_awaitable, ec));
    if (ec)
      co_return;
    boost::system::error_code write_error;
    co_await net::async_write(socket, net::buffer(data, n),
                              net::redirect_error(use_awaitable, write_error));
  }
}

awaitable<void> heartbeat(net::steady_timer &timer) {
  timer.expires_after(10ms);
  co_await timer.async_wait(use_awaitable);
}

awaitable<void> session(tcp::socket socket) {
  net::steady_timer timer(socket.get_executor());
  co_await heartbeat(timer);
  auto echoing = echo(std::move(socket));
  co_await std::move(echoing);
}

awaitable<void> listener(tcp::acceptor acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    net::co_spawn(acceptor.get_executor(), session(std::move(socket)), detached);
  }
}

awaitable<void> forgetful(tcp::acceptor &acceptor, net::steady_timer &timer) {
  heartbeat(timer);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'boost::asio::awaitable<void>' returned by 'heartbeat' is discarded without being awaited; its body never runs [coro-unawaited-task]
  // CHECK-FIXES: {{^}}  co_await heartbeat(timer);{{$}}
  acceptor.async_accept(use_awaitable);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: task 'boost::asio::awaitable<{{.*}}>' returned by 'boost::asio::basic_socket_acceptor::async_accept' is discarded
  // CHECK-FIXES: {{^}}  co_await acceptor.async_accept(use_awaitable);{{$}}
  co_return;
}

int main() {
  net::io_context io;
  tcp::acceptor acceptor(io, {tcp::v4(), 0});
  net::co_spawn(io, listener(std::move(acceptor)), detached);
  net::co_spawn(io, listener(tcp::acceptor(io)), [](std::exception_ptr e) {
    if (e)
      std::rethrow_exception(e);
  });
  io.run_for(1ms);
}
