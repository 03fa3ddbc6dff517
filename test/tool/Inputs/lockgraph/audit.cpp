#include "bank.h"

namespace bank {
std::mutex audit_mu;

// audit_mu, then cache_mu.
void sweep() {
  std::unique_lock audit(audit_mu);
  std::lock_guard cache(cache_mu);
}

// totals_mu_, then entries_mu_: the reverse of Ledger::post.
void Ledger::reconcile() {
  std::lock_guard totals(totals_mu_);
  entries_mu_.lock();
  entries_mu_.unlock();
}
} // namespace bank
