#include "bank.h"

namespace bank {
std::mutex cache_mu;

void refresh_cache() { std::lock_guard cache(cache_mu); }

void refill() {
  std::lock_guard cache(cache_mu);
  touch_accounts();
}
} // namespace bank
