// A TCP echo server and its client on standalone Asio coroutines, in one
// process over loopback. Plain user code: the end-to-end test instruments it
// with the compiler plugin and checks the runtime report.
//
//   echo [connections] [messages]
//
// Each client connection sends `messages` lines and checks every echo.
// Connection 0 also sends "slow", which its session handles by blocking the
// thread (a slow step); the last connection sends "boom", which makes its
// session throw (a failure).
#include <asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

int sessions_failed = 0;
int echoed = 0;

awaitable<void> session(tcp::socket socket) {
  std::string buffer;
  for (;;) {
    // echo:read (the site below)
    std::size_t n = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(buffer), '\n', use_awaitable);
    std::string line = buffer.substr(0, n);
    buffer.erase(0, n);
    if (line == "quit\n")
      co_return;
    if (line == "slow\n")
      std::this_thread::sleep_for(std::chrono::milliseconds(150)); // echo:slow
    if (line == "boom\n")
      throw std::runtime_error("boom: injected failure");
    co_await asio::async_write(socket, asio::buffer(line), use_awaitable);
  }
}

awaitable<void> listen(tcp::acceptor &acceptor, int connections) {
  for (int i = 0; i < connections; ++i) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket)),
                   [](std::exception_ptr error) {
                     if (!error)
                       return;
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception &e) {
                       ++sessions_failed;
                       std::printf("session failed: %s\n", e.what());
                     }
                   });
  }
}

awaitable<void> round_trip(tcp::socket &socket, const std::string &line) {
  co_await asio::async_write(socket, asio::buffer(line), use_awaitable);
  std::string reply;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), '\n',
                                  use_awaitable);
  if (reply != line)
    throw std::runtime_error("bad echo: " + reply);
  ++echoed;
}

awaitable<void> client(tcp::endpoint server, int id, int connections,
                       int messages) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, use_awaitable);
  for (int i = 0; i < messages; ++i)
    co_await round_trip(socket, "message " + std::to_string(i) + "\n");
  if (id == 0)
    co_await round_trip(socket, "slow\n");
  std::string last = id == connections - 1 ? "boom\n" : "quit\n";
  co_await asio::async_write(socket, asio::buffer(last), use_awaitable);
}

} // namespace

int main(int argc, char **argv) {
  int connections = argc > 1 ? std::atoi(argv[1]) : 4;
  int messages = argc > 2 ? std::atoi(argv[2]) : 25;
  if (connections < 1 || messages < 0) {
    std::fprintf(stderr, "usage: echo [connections] [messages]\n");
    return 2;
  }
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  // Bounded: a run that does not finish is a failure, not a hang.
  asio::steady_timer deadline(io, std::chrono::seconds(20));
  bool timed_out = false;
  deadline.async_wait([&](asio::error_code ec) {
    timed_out = !ec;
    if (timed_out)
      io.stop();
  });
  asio::co_spawn(io, listen(acceptor, connections), asio::detached);
  int clients_done = 0;
  for (int id = 0; id < connections; ++id)
    asio::co_spawn(io,
                   client(acceptor.local_endpoint(), id, connections, messages),
                   [&](std::exception_ptr error) {
                     if (error)
                       std::printf("client failed\n");
                     if (++clients_done == connections)
                       deadline.cancel();
                   });
  io.run();
  if (timed_out) {
    std::printf("timed out\n");
    return 1;
  }
  std::printf("echoed %d messages on %d connections; %d session failed\n",
              echoed, connections, sessions_failed);
  return 0;
}
