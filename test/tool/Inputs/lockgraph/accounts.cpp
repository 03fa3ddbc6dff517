#include "bank.h"

namespace bank {
std::mutex accounts_mu;

static void write_audit() { std::lock_guard audit(audit_mu); }

// accounts_mu, then audit_mu through a call.
void transfer() {
  std::lock_guard accounts(accounts_mu);
  write_audit();
}

// entries_mu_, then totals_mu_.
void Ledger::post() {
  std::lock_guard entries(entries_mu_);
  std::lock_guard totals(totals_mu_);
}
} // namespace bank
