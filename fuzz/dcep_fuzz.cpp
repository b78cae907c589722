// libFuzzer entry for the dcep target; the body lives in dcep_target.cpp so the corpus
// replay test (tests/fuzz_replay) can run it too.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return strata::fuzz::dcep_one_input(data, size);
}
