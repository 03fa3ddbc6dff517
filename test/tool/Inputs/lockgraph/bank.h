// Locks shared by three translation units. Each TU takes them in an order
// that is fine on its own; only the whole program has cycles.
#pragma once
#include <mutex>

namespace bank {
extern std::mutex accounts_mu;
extern std::mutex audit_mu;
extern std::mutex cache_mu;

class Ledger {
public:
  void post();
  void reconcile();

private:
  std::mutex entries_mu_;
  std::mutex totals_mu_;
};
} // namespace bank
