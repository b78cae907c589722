#include <cstdio>
#include <cstdlib>

#include "targets.hpp"

namespace strata::fuzz {

void fuzz_check_failed(const char* target, const char* what) {
  std::fprintf(stderr, "strata fuzz target '%s': invariant broken: %s\n", target, what);
  std::abort();
}

}  // namespace strata::fuzz
