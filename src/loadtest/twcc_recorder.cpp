#include "loadtest/twcc_recorder.hpp"

namespace strata::loadtest {

void TwccRecorder::on_packet(uint16_t seq, Timestamp arrival) {
  int64_t us = to_micros(arrival);
  if (!started_) {
    started_ = true;
    // Reference times are 24-bit multiples of 64 ms: count from our own epoch.
    epoch_us_ = us - us % rtp::kTwccReferenceTickUs;
    base_ = highest_ = seq;
  }
  int64_t ext = highest_ + int16_t(uint16_t(seq - uint16_t(highest_)));
  if (ext < base_) return;  // already reported as lost; too late to matter
  if (ext > highest_) highest_ = ext;
  ring_[size_t(ext & (kRing - 1))] = Slot{ext, us - epoch_us_};
  pending_ = true;
}

bool TwccRecorder::build(uint32_t sender_ssrc, uint32_t media_ssrc, rtp::TransportFeedback& fb) {
  if (!pending_) return false;
  pending_ = false;
  if (highest_ - base_ + 1 > kRing) base_ = highest_ - kRing + 1;
  fb.sender_ssrc = sender_ssrc;
  fb.media_ssrc = media_ssrc;
  fb.base_seq = uint16_t(base_);
  fb.fb_pkt_count = fb_count_++;
  fb.packets.clear();
  int64_t prev = -1;
  for (int64_t s = base_; s <= highest_; ++s) {
    Slot& slot = ring_[size_t(s & (kRing - 1))];
    rtp::TwccPacketStatus st;
    st.seq = uint16_t(s);
    if (slot.seq == s) {
      st.received = true;
      if (prev < 0) {
        fb.reference_time = int32_t(slot.arrival_us / rtp::kTwccReferenceTickUs);
        prev = int64_t(fb.reference_time) * rtp::kTwccReferenceTickUs;
      }
      st.delta_us = slot.arrival_us - prev;
      prev = slot.arrival_us;
      slot.seq = -1;
    }
    fb.packets.push_back(st);
  }
  base_ = highest_ + 1;
  return true;
}

}  // namespace strata::loadtest
