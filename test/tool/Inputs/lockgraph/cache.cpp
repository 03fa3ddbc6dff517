#include "bank.h"

namespace bank {
std::mutex cache_mu;

// cache_mu, then accounts_mu: closes accounts -> audit -> cache -> accounts.
void refill() {
  std::lock_guard cache(cache_mu);
  std::lock_guard accounts(accounts_mu);
}

// Consistent with transfer(): no cycle.
void settle() {
  std::lock_guard accounts(accounts_mu);
  std::lock_guard audit(audit_mu);
}
} // namespace bank
