// A program whose coroscope table is not one this coroscope reads: another
// layout version (-DVERSION=99) or a damaged cookie (-DBAD_COOKIE). It
// waits until it is killed (at most a minute).
#include <chrono>
#include <thread>

struct header {
  char cookie[8];
  unsigned version, size;
};

#ifdef BAD_COOKIE
#define COOKIE {'n', 'o', 't', ' ', 'o', 'u', 'r', 's'}
#else
#define COOKIE {'c', 'o', 'r', 'o', 's', 'c', 'p', '\x7f'}
#endif

extern "C" {
[[gnu::used, gnu::retain, gnu::section("coroscope_debug")]] header coroscope_debug_table = {
    COOKIE, VERSION, sizeof(header)};
}

int main() { std::this_thread::sleep_for(std::chrono::minutes(1)); }
