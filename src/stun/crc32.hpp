// CRC-32 (ISO-HDLC / IEEE 802.3, reflected polynomial 0xEDB88320), as used by the STUN
// FINGERPRINT attribute (RFC 8489 §14.7). Table-driven; no dependency on zlib.
#pragma once
#include <cstdint>

#include "common/bytes.hpp"

namespace strata::stun {

// Continue a CRC over more data: crc32(b, crc32(a)) == crc32(a ++ b). Start with 0.
uint32_t crc32(ByteSpan data, uint32_t crc = 0);

}  // namespace strata::stun
