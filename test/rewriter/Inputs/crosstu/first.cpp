// Built with -DEXTRA.
#include "shared.h"
#include "branches.h"

int first() {
  return run(shared_sum(1)) + run(shared_twice(2)) + run(split_braces(1)) +
         run(split_keyword(1));
}
