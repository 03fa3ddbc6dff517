// No coroutine keyword in this file or the project headers it includes.
#include <cstdio>
#include <vector>
int main() {
  std::vector<int> v{1, 2, 3};
  std::printf("%zu\n", v.size());
}
