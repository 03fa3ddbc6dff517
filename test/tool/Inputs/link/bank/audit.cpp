#include "bank.h"

namespace bank {
std::mutex audit_mu;

void record_audit() { std::lock_guard audit(audit_mu); }

void sweep() {
  std::lock_guard audit(audit_mu);
  refresh_cache();
}
} // namespace bank
