// Splits the byte stream OpenSSL writes into its memory BIO back into DTLS records and packs
// them into datagrams no larger than the MTU. A memory BIO loses write boundaries, so the
// record headers (RFC 6347 §4.1) are the only way to find them again; several records may
// share one datagram (RFC 6347 §4.1.1), which keeps handshake flights to few packets.
#pragma once
#include <cstddef>
#include <vector>

#include "common/bytes.hpp"

namespace strata::dtls {

inline constexpr size_t kDtlsRecordHeaderSize = 13;

// Appends datagrams built from `records` to `out`. A record larger than `mtu` goes alone
// in its own datagram; trailing bytes that do not form a whole record go out as-is (never
// happens with OpenSSL, but must not be lost or read out of bounds).
void pack_records_into_datagrams(ByteSpan records, size_t mtu, std::vector<Bytes>& out);

// Whether a datagram can be DTLS by its first byte (RFC 7983 §7: 20..63) and is long
// enough for one record header.
bool looks_like_dtls(ByteSpan datagram);

}  // namespace strata::dtls
