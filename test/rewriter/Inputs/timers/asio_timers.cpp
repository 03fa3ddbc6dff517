// Debian's Asio: a timer's async_wait is a timer site; a socket's read is an
// event.
#include <asio.hpp>

asio::awaitable<void> standalone(asio::steady_timer &t, asio::ip::tcp::socket &s, char *b) {
  co_await t.async_wait(asio::use_awaitable);
  co_await s.async_read_some(asio::buffer(b, 1), asio::use_awaitable);
}
