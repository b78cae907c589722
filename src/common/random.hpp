// Cryptographically random values (OpenSSL RAND_bytes) for ICE credentials, SSRCs,
// session ids and DTLS; never used on the per-packet path.
#pragma once
#include <cstdint>
#include <string>

namespace strata {

uint32_t random_u32();
uint64_t random_u64();
// Random string over [A-Za-z0-9+/] (ICE-chars, RFC 8839 §5.4) of the given length.
std::string random_ice_string(size_t length);
// Random lowercase hex string of the given length (session ids, ETags).
std::string random_hex(size_t length);

}  // namespace strata
