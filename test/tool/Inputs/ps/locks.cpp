// A target for `coroscope pstree` with locks (hand-marked): flush holds
// Store::mu_ while it waits for an event; update_table holds the async
// mutex Table::m_ and awaits refresh_entry, which waits for Table::m_: a
// deadlock through a lock. Outside coroutines, the main thread holds
// Log::mu_ and another thread blocks on Store::mu_. It writes READY-FILE
// once the coroutines are parked, then waits to be killed.
#include "support.hpp"

#include <cstdio>
#include <mutex>
#include <thread>

using coroscope_test::async_mutex;
using coroscope_test::event;
using coroscope_test::task;

std::mutex store_mu;
async_mutex table_m;

task<> flush(event &e) {
  COROSCOPE_CORO();
  COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, guard, store_mu, "Store::mu_");
  COROSCOPE_AWAIT(e);
  COROSCOPE_RETURN();
}

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

std::mutex log_mu;

void store_from_a_thread() {
  COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, guard, store_mu, "Store::mu_");
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  event e;
  auto f = flush(e);
  f.start();
  auto u = update_table();
  u.start();
  log_mu.lock();
  COROSCOPE_LOCKED(log_mu, "Log::mu_");
  std::thread(store_from_a_thread).detach(); // blocks: flush holds Store::mu_
  if (std::FILE *ready = std::fopen(argv[1], "w"))
    std::fclose(ready);
  for (;;)
    std::this_thread::sleep_for(std::chrono::seconds(1));
}
