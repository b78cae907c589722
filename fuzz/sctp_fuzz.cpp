// libFuzzer entry for the sctp target; the body lives in sctp_target.cpp so the corpus
// replay test (tests/fuzz_replay) can run it too.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return strata::fuzz::sctp_one_input(data, size);
}
