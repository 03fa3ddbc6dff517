// A TCP echo server and its clients on standalone Asio coroutines, in one
// io_context over loopback. Plain user code: the end-to-end test
// (test/e2e/asio-echo.test) instruments it with no source change and checks
// the runtime report against the `// echo:...` markers below.
//
//   echo [connections] [messages]        (defaults: 4 25)
//
// Each client connection sends `messages` lines, awaits every echo and checks
// it, then closes. Two faults are injected:
//   - connection 0 also sends "slow": its session blocks the thread for
//     150 ms before echoing it (a slow step);
//   - the last connection ends with "boom": its session throws (a failure).
// The output is deterministic: counts only, no timings, no ports.
#include <asio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

struct Stats {
  int echoed = 0;          // replies the clients received and checked
  int sessions_closed = 0; // sessions that ended at the client's EOF
  int sessions_failed = 0; // sessions that ended with an exception
  int clients_done = 0;
  int clients_failed = 0;
};

// Serves one connection: echoes every line until the client closes it.
awaitable<void> session(tcp::socket socket) {
  std::string buffer;
  for (;;) {
    asio::error_code ec;
    std::size_t n = co_await asio::async_read_until( // echo:read
        socket, asio::dynamic_buffer(buffer), '\n',
        asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::eof)
      co_return; // the client is done
    if (ec)
      throw asio::system_error(ec);
    std::string line = buffer.substr(0, n);
    buffer.erase(0, n);
    if (line == "slow\n")
      std::this_thread::sleep_for(std::chrono::milliseconds(150)); // echo:slow
    if (line == "boom\n")
      throw std::runtime_error("boom: injected failure");
    co_await asio::async_write(socket, asio::buffer(line), use_awaitable); // echo:write
  }
}

// Accepts `connections` connections, one session each.
awaitable<void> listen(tcp::acceptor &acceptor, int connections, Stats &stats,
                       std::function<void()> on_end) {
  for (int i = 0; i < connections; ++i) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    // A failed session must not bring the server down: report and go on.
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket)),
                   [&stats, on_end](std::exception_ptr error) {
                     if (!error) {
                       ++stats.sessions_closed;
                     } else {
                       ++stats.sessions_failed;
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception &e) {
                         std::printf("session failed: %s\n", e.what());
                       }
                     }
                     on_end();
                   });
  }
}

// One client connection: `messages` round trips, plus the injected faults.
awaitable<void> client(tcp::endpoint server, int id, int connections,
                       int messages, Stats &stats) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, use_awaitable);
  std::string reply;
  auto round_trip = [&](const std::string &line) -> awaitable<void> {
    co_await asio::async_write(socket, asio::buffer(line), use_awaitable);
    std::size_t n = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(reply), '\n', use_awaitable);
    if (reply.substr(0, n) != line)
      throw std::runtime_error("bad echo on connection " + std::to_string(id));
    reply.erase(0, n);
    ++stats.echoed;
  };
  for (int i = 0; i < messages; ++i)
    co_await round_trip("message " + std::to_string(i) + " from " +
                        std::to_string(id) + "\n");
  if (id == 0)
    co_await round_trip("slow\n");
  if (id == connections - 1) // no echo: the session throws
    co_await asio::async_write(socket, asio::buffer("boom\n", 5), use_awaitable);
} // closing the socket ends the session with EOF

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
  Stats stats;

  // Bounded: a run that does not finish in 20 s is a failure, not a hang.
  asio::steady_timer deadline(io, std::chrono::seconds(20));
  bool timed_out = false;
  deadline.async_wait([&](asio::error_code ec) {
    timed_out = !ec;
    if (timed_out)
      io.stop();
  });
  // Done when every client and every session has ended.
  auto on_end = [&] {
    if (stats.clients_done == connections &&
        stats.sessions_closed + stats.sessions_failed == connections)
      deadline.cancel();
  };

  asio::co_spawn(io, listen(acceptor, connections, stats, on_end),
                 asio::detached);
  for (int id = 0; id < connections; ++id)
    asio::co_spawn(
        io, client(acceptor.local_endpoint(), id, connections, messages, stats),
        [&, id](std::exception_ptr error) {
          if (error) {
            ++stats.clients_failed;
            std::printf("client %d failed\n", id);
          }
          ++stats.clients_done;
          on_end();
        });
  io.run();

  if (timed_out) {
    std::printf("timed out\n");
    return 1;
  }
  std::printf("echoed %d messages on %d connections\n", stats.echoed,
              connections);
  std::printf("sessions: %d closed, %d failed\n", stats.sessions_closed,
              stats.sessions_failed);
  return stats.clients_failed == 0 ? 0 : 1;
}
