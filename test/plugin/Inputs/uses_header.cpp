#include "header_coro.h"
#include <cstdio>
int main() {
  int r = 0;
  auto t = [&]() -> cppcoro::task<void> { r = co_await from_header(1); }();
  cppcoro::sync_wait(t);
  std::printf("%d\n", r);
}
