// Fixed SRTP master keys shared by the srtp fuzz target and the seed generator, so seed
// packets protected with them authenticate inside the fuzzer and reach the decrypt path.
#pragma once
#include <cstdint>

#include "common/bytes.hpp"
#include "common/srtp_keys.hpp"

namespace strata::fuzz {

inline ByteSpan fuzz_master_key() {
  static const uint8_t kKey[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  return ByteSpan(kKey, sizeof(kKey));
}

// 14 bytes; the GCM profile uses the first 12 (srtp_salt_length).
inline ByteSpan fuzz_master_salt(SrtpProfile profile) {
  static const uint8_t kSalt[14] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
                                    0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad};
  return ByteSpan(kSalt, srtp_salt_length(profile));
}

}  // namespace strata::fuzz
