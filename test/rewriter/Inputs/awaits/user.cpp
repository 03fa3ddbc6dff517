#include "tls_client.h"
#include <cstdio>

int main() {
  tls_client c;
  int v = 0;
  cppcoro::sync_wait([&]() -> cppcoro::task<void> { v = co_await c.close(41); }());
  std::printf("closed %d\n", v);
}
