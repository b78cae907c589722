// Receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3): remembers arrival times by transport sequence number and, every
// ~100 ms, turns the packets since the last report into one feedback message, as a
// browser does. Fixed ring, no allocation per packet.
#pragma once
#include <array>
#include <cstdint>

#include "common/time.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::loadtest {

class TwccRecorder {
 public:
  static constexpr int64_t kRing = 1024;

  void on_packet(uint16_t seq, Timestamp arrival);
  // Fills `fb` (reusing its vector) with every sequence number from the first one not yet
  // reported to the highest seen. False when nothing arrived since the last call.
  bool build(uint32_t sender_ssrc, uint32_t media_ssrc, rtp::TransportFeedback& fb);

 private:
  struct Slot {
    int64_t seq = -1;  // extended
    int64_t arrival_us = 0;
  };
  bool started_ = false, pending_ = false;
  int64_t epoch_us_ = 0;
  int64_t base_ = 0, highest_ = 0;  // extended; base_ = first not yet reported
  uint8_t fb_count_ = 0;
  std::array<Slot, kRing> ring_{};
};

}  // namespace strata::loadtest
