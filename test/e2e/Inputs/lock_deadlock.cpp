// A deadlock through an async mutex, marked by hand: update_table holds
// Table::m_ and awaits refresh_entry, which waits for Table::m_. No thread
// blocks, so main goes on and exits; the report names the deadlock from
// the waiters still alive when it is written, once they have waited
// longer than COROSCOPE_HANG_MS (the test sets 1; main sleeps 50 ms).
#include "support.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

using coroscope_test::async_mutex;
using coroscope_test::task;

async_mutex table_m;

task<> refresh_entry() {
  COROSCOPE_CORO();
  COROSCOPE_ASYNC_LOCK_GUARD(lock, table_m, "Table::m_", table_m.scoped_lock());
  COROSCOPE_RETURN();
}

task<> update_table() {
  COROSCOPE_CORO();
  COROSCOPE_ASYNC_LOCK_GUARD(lock, table_m, "Table::m_", table_m.scoped_lock());
  COROSCOPE_AWAIT(refresh_entry());
  COROSCOPE_RETURN();
}

int main() {
  auto update = update_table();
  update.start();
  std::printf("parked\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The frames stay as they are: destroying them would release the lock
  // to a waiter whose frame is gone.
  std::exit(0);
}
