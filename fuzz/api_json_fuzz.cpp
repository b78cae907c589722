// libFuzzer entry for the api_json target; the body lives in api_json_target.cpp so the corpus
// replay test (tests/fuzz_replay) can run it too.
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return strata::fuzz::api_json_one_input(data, size);
}
