// Lock orders a run observes, for `coroscope lockgraph` to merge with the
// static facts of the same file. The locks are tracked by hand
// (COROSCOPE_LOCK_GUARD), named as coro-lock-order-inversion names them.
#include <coroscope/coroscope.hpp>

#include <mutex>

#define GUARD(name, lock) COROSCOPE_LOCK_GUARD(std::lock_guard<std::mutex>, name, lock, "bank::" #lock)

namespace bank {
std::mutex accounts_mu, audit_mu, ledger_mu, cache_mu;

// accounts_mu and audit_mu in opposite orders: the static check sees both.
void transfer() {
  GUARD(a, accounts_mu);
  GUARD(b, audit_mu);
}
void audit() {
  GUARD(b, audit_mu);
  GUARD(a, accounts_mu);
}

// cache_mu then ledger_mu, which the static check sees; ledger_mu then
// cache_mu only through a function pointer, which it cannot follow.
void refill() { GUARD(c, cache_mu); }
void (*volatile on_post)() = refill;
void sweep() {
  GUARD(c, cache_mu);
  GUARD(l, ledger_mu);
}
void post() {
  GUARD(l, ledger_mu);
  on_post();
}
} // namespace bank

int main() {
  bank::transfer();
  bank::audit();
  bank::sweep();
  bank::post();
}
