// Three locks and three TUs. No TU takes two locks itself: each holds its
// own lock while it calls into the next TU, which takes the next lock.
// Only the whole program has the cycle.
#pragma once
#include <mutex>

namespace bank {
extern std::mutex accounts_mu;
extern std::mutex audit_mu;
extern std::mutex cache_mu;

void record_audit();   // audit.cpp: takes audit_mu
void refresh_cache();  // cache.cpp: takes cache_mu
void touch_accounts(); // accounts.cpp: takes accounts_mu, through a helper
} // namespace bank
