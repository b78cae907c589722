// Sending statistics for one outgoing RTP stream: what an RTCP sender report needs
// (RFC 3550 §6.4.1) and round-trip time from the report blocks the receiver sends back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace strata::sfu {

struct SenderReportData {
  uint64_t ntp = 0;           // NTP timestamp of this report
  uint32_t rtp_ts = 0;        // the same instant on the stream's RTP clock
  uint32_t packet_count = 0;  // wraps, as on the wire
  uint32_t octet_count = 0;   // payload octets only (no header or padding)
};

class SendStats {
 public:
  // Call for each original (not retransmitted) packet sent with its payload size.
  void on_packet_sent(uint32_t rtp_ts, size_t payload_bytes, Timestamp now);

  // The RTP timestamp is extrapolated from the newest sent timestamp by the wall time
  // elapsed since it was first sent, so the receiver can map RTP time to NTP time (lip sync).
  SenderReportData make_sender_report(uint64_t ntp_now, Timestamp now, uint32_t clock_rate) const;

  // RTT = A - LSR - DLSR (RFC 3550 §6.4.1), A = middle 32 bits of `ntp_now`. nullopt when
  // the block has no LSR (no SR received yet) or the result is clearly negative (bogus).
  static std::optional<Duration> rtt_from_report(uint32_t lsr, uint32_t dlsr, uint64_t ntp_now);

  bool has_sent() const { return has_sent_; }
  uint64_t packets() const { return packets_; }
  uint64_t octets() const { return octets_; }
  uint32_t last_rtp_ts() const { return last_rtp_ts_; }

 private:
  bool has_sent_ = false;
  uint64_t packets_ = 0;
  uint64_t octets_ = 0;
  uint32_t last_rtp_ts_ = 0;
  Timestamp last_rtp_ts_sent_at_{};
};

}  // namespace strata::sfu
