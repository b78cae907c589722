// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the SCTP packet checksum
// (RFC 9260 §6.8 and Appendix A). Table-driven (slicing by 8): data channel packets arrive at
// message rates, far below the media path's.
#pragma once
#include <cstdint>

#include "common/bytes.hpp"

namespace strata::sctp {

// Continue a CRC over more data: crc32c(b, crc32c(a)) == crc32c(a ++ b). Start with 0.
uint32_t crc32c(ByteSpan data, uint32_t crc = 0);

}  // namespace strata::sctp
