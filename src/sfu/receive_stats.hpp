// Reception statistics for one incoming RTP stream, for RTCP receiver report blocks
// (RFC 3550 §6.4.1) computed per Appendix A: sequence validation and extended highest
// sequence number (A.1), expected/lost counts and fraction lost per interval (A.3),
// interarrival jitter in RTP timestamp units (A.8), and LSR/DLSR from the last sender
// report received. Sequence probation (A.1 MIN_SEQUENTIAL) is skipped: SFU streams are
// announced in signaling, so their first packet is trusted.
#pragma once
#include <cstdint>

#include "common/time.hpp"

namespace strata::sfu {

struct ReportBlockData {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;     // 8-bit fixed point, lost/expected in the last interval
  int32_t cumulative_lost = 0;   // clamped to the 24-bit signed field
  uint32_t extended_highest_seq = 0;
  uint32_t jitter = 0;           // RTP timestamp units
  uint32_t lsr = 0;              // middle 32 bits of the last SR's NTP timestamp, 0 if none
  uint32_t dlsr = 0;             // delay since that SR, 1/65536 s
};

class ReceiveStats {
 public:
  static constexpr uint32_t kMaxDropout = 3000;  // RFC 3550 §A.1
  static constexpr uint32_t kMaxMisorder = 100;

  explicit ReceiveStats(uint32_t clock_rate);

  // Returns false when A.1 validation rejected the packet (a large jump not yet confirmed
  // by a second sequential packet); such packets don't count.
  bool on_packet(uint16_t seq, uint32_t rtp_ts, Timestamp arrival);
  // `ntp` is the SR's 64-bit NTP timestamp (RFC 3550 §6.4.1).
  void on_sender_report(uint64_t ntp, Timestamp arrival);
  // Builds a report block and starts a new fraction-lost interval.
  ReportBlockData make_report_block(uint32_t ssrc, Timestamp now);

  bool has_packets() const { return started_; }
  uint32_t extended_highest_seq() const { return cycles_ + max_seq_; }
  uint64_t packets_received() const { return received_; }
  uint64_t packets_expected() const;
  int64_t cumulative_lost() const { return int64_t(packets_expected()) - int64_t(received_); }
  uint32_t jitter() const { return jitter_q4_ >> 4; }

 private:
  void init_seq(uint16_t seq);
  bool update_seq(uint16_t seq);
  void update_jitter(uint32_t rtp_ts, Timestamp arrival);

  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // shifted count of sequence number cycles
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  bool has_transit_ = false;
  uint32_t last_transit_ = 0;
  uint32_t jitter_q4_ = 0;  // jitter * 16 (A.8 integer form)
  bool has_sr_ = false;
  uint32_t lsr_ = 0;
  Timestamp sr_arrival_{};
};

}  // namespace strata::sfu
