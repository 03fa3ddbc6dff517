// A translation unit with Asio and no coroutine keyword anywhere: the
// plugin's prescan must make it cost nothing.
#include <asio.hpp>
#include <iostream>
#include <string>

namespace {

std::string fetch(asio::io_context &io, const std::string &host,
                  const std::string &port, const std::string &request) {
  asio::ip::tcp::resolver resolver(io);
  asio::ip::tcp::socket socket(io);
  asio::connect(socket, resolver.resolve(host, port));
  asio::write(socket, asio::buffer(request));
  std::string reply;
  asio::error_code ec;
  asio::read(socket, asio::dynamic_buffer(reply), ec);
  if (ec && ec != asio::error::eof)
    throw asio::system_error(ec);
  return reply;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: asio_sync HOST PORT\n";
    return 2;
  }
  asio::io_context io;
  try {
    std::cout << fetch(io, argv[1], argv[2], "GET / HTTP/1.0\r\n\r\n");
  } catch (const std::exception &e) {
    std::cerr << "asio_sync: " << e.what() << "\n";
    return 1;
  }
}
