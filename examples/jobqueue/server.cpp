// jobqueue: a tiny line-based job server on standalone Asio coroutines.
//
//   PUT <kind> <data>   queue a job, answers "OK <id>" or "BUSY"
//   STATS               answers the queue statistics
//
// Run `jobqueue --self-test N` to start the server, submit N jobs from an
// in-process client, drain them and exit; `jobqueue --serve` to serve until
// killed.
//
// It is written the way real services are, and it has the bugs coroscope
// exists to catch; each is marked "BUG".

#include "audit.h"
#include "job_store.h"
#include "registry.h"

#include <asio.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace jobqueue {

std::mutex watchers_mutex;
int watchers = 0;
int unknown_commands = 0;

/// Counts a client, and the metrics export that announces it.
void count_client() {
  std::lock_guard clients_lock(clients_mutex);
  ++clients;
  std::lock_guard metrics_lock(metrics_mutex);
  ++metrics_exports;
}

awaitable<void> notify_watchers(std::uint64_t id) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer debounce(executor, 1ms);
  co_await debounce.async_wait(use_awaitable);
  std::lock_guard lock(watchers_mutex);
  watchers += static_cast<int>(id % 2);
}

/// Records an unknown command a moment later, off the request path.
awaitable<void> log_unknown(const std::string &command) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer delay(executor, 1ms);
  co_await delay.async_wait(use_awaitable);
  std::lock_guard lock(watchers_mutex);
  unknown_commands += command.empty() ? 0 : 1;
}

awaitable<void> handle_client(tcp::socket socket, JobStore &store) {
  asio::streambuf buffer;
  for (;;) {
    std::size_t n = co_await asio::async_read_until(socket, buffer, '\n',
                                                    use_awaitable);
    std::string line(asio::buffers_begin(buffer.data()),
                     asio::buffers_begin(buffer.data()) + n - 1);
    buffer.consume(n);

    std::string reply;
    if (line.rfind("PUT ", 0) == 0) {
      std::uint64_t id = 0;
      int attempts = 0;
      while (!store.push(line.substr(4), id) && ++attempts < 3) {
        // BUG (blocking call): backing off with sleep_for stalls every
        // connection served by this thread, and the worker that would make
        // room in the queue too.
        std::this_thread::sleep_for(5ms);
      }
      if (id == 0) {
        co_await asio::async_write(socket, asio::buffer("BUSY\n", 5),
                                   use_awaitable);
        continue;
      }
      // BUG (blocking call, through a helper): audit() opens and writes a
      // file synchronously.
      audit("put " + std::to_string(id));
      // BUG (unawaited task): the awaitable is created and dropped, so the
      // watchers are never notified.
      notify_watchers(id);
      reply = "OK " + std::to_string(id) + "\n";
    } else if (line == "STATS") {
      reply = store.report() + "\n";
    } else if (line == "QUIT") {
      co_return;
    } else {
      // BUG (dangling reference): co_spawn posts log_unknown, which reads its
      // reference parameter after the temporary string it is bound to was
      // destroyed at the end of this statement.
      asio::co_spawn(socket.get_executor(), log_unknown(line.substr(0, 32)),
                     asio::detached);
      reply = "ERR unknown command\n";
    }
    co_await asio::async_write(socket, asio::buffer(reply), use_awaitable);
  }
}

awaitable<void> worker(JobStore &store, std::uint64_t &done,
                       std::uint64_t expected) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer idle(executor);
  while (done < expected) {
    std::optional<Job> job = store.pop();
    if (!job) {
      idle.expires_after(1ms);
      co_await idle.async_wait(use_awaitable);
      continue;
    }
    // BUG (lock held across co_await): the guard stays locked while the
    // coroutine is suspended, and may be released on another thread.
    std::lock_guard lock(watchers_mutex);
    idle.expires_after(1ms);
    co_await idle.async_wait(use_awaitable);
    // BUG (blocking call, in another file): every tenth complete() writes a
    // snapshot and fsyncs it (job_store.cpp), on this thread.
    store.complete(*job);
    // BUG (unawaited task, stored): the notification is kept in a variable
    // but never awaited or spawned, so it never runs.
    auto notification = notify_watchers(job->id);
    ++done;
  }
}

awaitable<void> listen(tcp::acceptor &acceptor, JobStore &store) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(acceptor.get_executor(),
                   handle_client(std::move(socket), store), asio::detached);
  }
}

awaitable<void> self_test_client(tcp::endpoint endpoint, int jobs) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  co_await socket.async_connect(endpoint, use_awaitable);
  asio::streambuf buffer;
  for (int i = 0; i < jobs; ++i) {
    std::string request = "PUT resize image-" + std::to_string(i) + "\n";
    co_await asio::async_write(socket, asio::buffer(request), use_awaitable);
    co_await asio::async_read_until(socket, buffer, '\n', use_awaitable);
    buffer.consume(buffer.size());
  }
  std::string quit = "QUIT\n";
  co_await asio::async_write(socket, asio::buffer(quit), use_awaitable);
}

} // namespace jobqueue

int main(int argc, char **argv) {
  int jobs = 20;
  bool serve = argc == 2 && std::string(argv[1]) == "--serve";
  if (argc == 3 && std::string(argv[1]) == "--self-test")
    jobs = std::atoi(argv[2]);
  if (jobs <= 0 || (argc != 1 && argc != 3 && !serve)) {
    std::cerr << "usage: jobqueue [--self-test N | --serve]\n";
    return 2;
  }

  asio::io_context io;
  jobqueue::count_client();
  jobqueue::JobStore store(1024);
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  std::uint64_t done = 0;
  asio::co_spawn(io, jobqueue::listen(acceptor, store), asio::detached);
  // --serve: no client of its own, and no end; it says where it listens.
  std::uint64_t expected = serve ? UINT64_MAX : static_cast<std::uint64_t>(jobs);
  asio::co_spawn(io, jobqueue::worker(store, done, expected),
                 [&](std::exception_ptr) { io.stop(); });
  if (serve)
    std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  else
    asio::co_spawn(io,
                   jobqueue::self_test_client(acceptor.local_endpoint(), jobs),
                   asio::detached);
  io.run();
  std::cout << "processed " << done << " jobs; " << store.report() << "; "
            << jobqueue::export_metrics() << "\n";
  return done == static_cast<std::uint64_t>(jobs) ? 0 : 1;
}
