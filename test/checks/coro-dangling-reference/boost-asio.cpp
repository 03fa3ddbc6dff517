// RUN: %check_coro_tidy %s coro-dangling-reference %t -- -- -DBOOST_ASIO_HAS_CO_AWAIT

// Boost.Asio spells it boost::asio::co_spawn; a stored awaitable co_spawned
// later is pending after its temporary died too.

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <string>

namespace net = boost::asio;

net::awaitable<std::size_t> measure(const std::string &text) {
  co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
  co_return text.size();
}

void spawn_all(net::io_context &ctx) {
  net::co_spawn(ctx, measure(std::string("now")), net::detached);
  // CHECK-NOTES: :[[@LINE-1]]:30: warning: reference parameter 'text' of lazy task 'measure' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is spawned by 'boost::asio::co_spawn' and runs after this statement [coro-dangling-reference]
  // CHECK-NOTES: :17:13: note: 'measure' reads 'text' here, when the task runs
  // CHECK-FIXES: {{^}}net::awaitable<std::size_t> measure(std::string text) {{{$}}
  auto later = measure(std::string("later"));
  // CHECK-NOTES: :[[@LINE-1]]:24: warning: reference parameter 'text' of lazy task 'measure' is bound to a temporary 'std::string' that is destroyed at the end of this statement; the task is stored in 'later' and spawned by 'boost::asio::co_spawn' at line [[@LINE+3]]
  // CHECK-NOTES: :[[@LINE+2]]:3: note: the task is spawned by 'boost::asio::co_spawn' here
  // CHECK-NOTES: :17:13: note: 'measure' reads 'text' here, when the task runs
  net::co_spawn(ctx, std::move(later), net::detached);
}
