// libFuzzer entry for the stun target; the body lives in stun_target.cpp so the corpus
// replay test (tests/fuzz_replay) can run it too.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return strata::fuzz::stun_one_input(data, size);
}
