// Receiver side of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01): records the arrival time of every
// RTP packet that carries the transport-wide sequence number header extension (§2) and
// periodically reports them back in RTPFB fmt 15 feedback packets (§3.1), which is what a
// send-side bandwidth estimator (Chromium's GoogCC) needs to ramp its bitrate up.
//
// Sans-IO: on_packet() per packet, collect() on a timer (next_due()). Arrival times live
// in a fixed ring of kHistorySize slots indexed by the unwrapped sequence number, so the
// per-packet path never allocates and memory is bounded no matter what the sender does.
//
// Each feedback covers consecutive sequence numbers from the first unreported one up to
// the highest received; missing ones are reported as not received (a later arrival of an
// already-reported packet is ignored, like libwebrtc's RemoteEstimatorProxy does in
// periodic mode). A range is split into several feedback packets when it would exceed
// kMaxFeedbackBytes or a receive delta overflows the 16-bit signed delta field (§3.1.5).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::sfu {

class TransportFeedbackGenerator {
 public:
  // Ring size: packets further than this behind the newest are forgotten unreported.
  static constexpr int64_t kHistorySize = int64_t(1) << 14;
  // Upper bound on the FCI size of one feedback (status chunks + deltas), so the RTCP
  // packet plus SRTCP overhead stays well under a typical 1200-byte path MTU.
  static constexpr size_t kMaxFeedbackBytes = 1000;
  // This many unreported packets make feedback due before the interval expires.
  static constexpr int64_t kEarlyFeedbackPackets = 400;

  struct Counters {
    uint64_t packets = 0;          // accepted by on_packet()
    uint64_t duplicates = 0;       // same sequence number seen twice while pending
    uint64_t late = 0;             // older than what was already reported: ignored
    uint64_t dropped = 0;          // forgotten unreported because the window overflowed
    uint64_t feedback_packets = 0; // RTPFB fmt 15 packets appended by collect()
  };

  explicit TransportFeedbackGenerator(uint32_t sender_ssrc,
                                      Duration interval = std::chrono::milliseconds(50));

  // Every received RTP packet that carries the transport-wide sequence number extension.
  void on_packet(uint32_t media_ssrc, uint16_t transport_seq, Timestamp arrival);
  // Appends zero or more transport-cc feedback packets (RTPFB fmt 15) to `out` when due
  // (every `interval`, or early when many packets are pending). Returns true if any.
  bool collect(Timestamp now, Bytes& out);
  // When collect() should next be called; kNever when nothing is pending.
  Timestamp next_due() const;

  const Counters& counters() const { return counters_; }
  // Number of sequence numbers (received or missing) that the next feedback will cover.
  int64_t pending_count() const { return started_ ? highest_ - next_unreported_ + 1 : 0; }

 private:
  static constexpr int64_t kNotReceived = INT64_MIN;

  int64_t& slot(int64_t ext_seq) { return arrivals_[size_t(ext_seq & (kHistorySize - 1))]; }
  void advance_highest(int64_t ext_seq);
  // Builds one feedback starting at next_unreported_ and advances past what it covers.
  void build_one(rtp::TransportFeedback& fb);

  uint32_t sender_ssrc_;
  uint32_t media_ssrc_ = 0;
  Duration interval_;
  std::vector<int64_t> arrivals_;  // arrival time in us, or kNotReceived; kHistorySize slots
  bool started_ = false;
  int64_t next_unreported_ = 0;  // extended sequence numbers
  int64_t highest_ = -1;
  Timestamp last_arrival_{};
  Timestamp next_due_ = Timestamp::min();
  uint8_t fb_pkt_count_ = 0;
  int32_t last_reference_time_ = 0;
  rtp::TransportFeedback scratch_;  // reused so collect() doesn't reallocate each time
  Counters counters_;
};

}  // namespace strata::sfu
