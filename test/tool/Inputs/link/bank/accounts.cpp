#include "bank.h"

namespace bank {
std::mutex accounts_mu;

static void open_books() { std::lock_guard books(accounts_mu); }

void touch_accounts() { open_books(); }

void transfer() {
  std::lock_guard accounts(accounts_mu);
  record_audit();
}
} // namespace bank
