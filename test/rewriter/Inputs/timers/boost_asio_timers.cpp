// Boost.Asio: the same, with a system_timer and a deadline_timer.
#include <boost/asio.hpp>
#include <boost/asio/deadline_timer.hpp>

boost::asio::awaitable<void> with_boost(boost::asio::system_timer &t, boost::asio::deadline_timer &d) {
  co_await t.async_wait(boost::asio::use_awaitable);
  co_await d.async_wait(boost::asio::use_awaitable);
}
