// Transport-wide congestion control feedback, RTPFB fmt 15
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//
// Layout after the RFC 4585 feedback header: base sequence (16), packet status count
// (16), reference time (24, signed, multiples of 64 ms), feedback packet count (8), then
// packet status chunks (16 bits each) and one receive delta per received packet:
//   run-length chunk:    0 | S(2) | run length(13)
//   status vector chunk: 1 | 0 | 14 one-bit symbols   (0 = not received, 1 = small delta)
//                        1 | 1 | 7 two-bit symbols    (0 none, 1 small, 2 large, 3 reserved)
// Small delta: 1 byte unsigned; large delta: 2 bytes signed; both in 250 us ticks.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "rtp/rtcp.hpp"

namespace strata::rtp {

inline constexpr int64_t kTwccDeltaTickUs = 250;
inline constexpr int64_t kTwccReferenceTickUs = 64'000;

struct TwccPacketStatus {
  uint16_t seq = 0;
  bool received = false;
  // For received packets: receive time minus the previous received packet's receive time
  // (for the first received packet: minus reference_time). 0 when not received.
  int64_t delta_us = 0;
  bool operator==(const TwccPacketStatus&) const = default;
};

struct TransportFeedback {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t base_seq = 0;
  int32_t reference_time = 0;  // 24-bit signed, in 64 ms units
  uint8_t fb_pkt_count = 0;
  std::vector<TwccPacketStatus> packets;  // consecutive sequence numbers from base_seq
  bool operator==(const TransportFeedback&) const = default;

  int64_t reference_time_us() const { return int64_t(reference_time) * kTwccReferenceTickUs; }
};

std::optional<TransportFeedback> parse_transport_feedback(const RtcpPacketView& v);

// Fails (appending nothing) when packets is empty or longer than 65535, a packet's seq
// is not base_seq + index, or a delta does not fit in a signed 16-bit tick count.
// Deltas are rounded to the nearest 250 us tick.
bool append_transport_feedback(Bytes& out, const TransportFeedback& fb);

}  // namespace strata::rtp
