// HMAC-SHA1 over several byte ranges, for STUN MESSAGE-INTEGRITY (RFC 8489 §14.5). Taking
// the input in parts lets the caller substitute the adjusted length field without copying
// the message.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"

namespace strata::stun {

using Sha1Digest = std::array<uint8_t, 20>;

// nullopt only if OpenSSL fails (e.g. SHA-1 unavailable in the active provider).
std::optional<Sha1Digest> hmac_sha1(std::string_view key, std::initializer_list<ByteSpan> parts);

// Constant-time comparison, so a forged MESSAGE-INTEGRITY cannot be found byte by byte.
bool digests_equal(ByteSpan a, ByteSpan b);

}  // namespace strata::stun
