// RTX retransmission payload format (RFC 4588 §4): the RTX packet carries the original
// header (CSRCs and extensions included) with RTX payload type, SSRC and sequence, and
// a 2-byte original sequence number (OSN) in front of the original payload.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rtp/rtp_packet.hpp"

namespace strata::rtp {

// Writes the RTX form of `original` into `out`. The original padding is dropped.
// Returns bytes written, or 0 when capacity is too small.
size_t write_rtx(const RtpPacket& original, uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq,
                 uint8_t* out, size_t capacity);

// The OSN of a received RTX packet; nullopt for padding-only RTX (payload < 2 bytes).
std::optional<uint16_t> rtx_original_sequence(const RtpPacket& rtx);

// Turns a received RTX packet back into the original, in place: the payload (and any
// padding) is moved over the OSN, and sequence/SSRC/payload type are restored. Returns
// the view of the now 2-byte-shorter packet; `rtx` must not be used afterwards.
std::optional<RtpPacket> restore_from_rtx(RtpPacket& rtx, uint8_t original_pt, uint32_t original_ssrc);

}  // namespace strata::rtp
