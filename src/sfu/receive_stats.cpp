#include "sfu/receive_stats.hpp"

#include <algorithm>
#include <cstdlib>

namespace strata::sfu {
namespace {

constexpr uint32_t kSeqMod = 1u << 16;

// 1/65536-second units used by DLSR (RFC 3550 §6.4.1).
uint32_t to_ntp_short(Duration d) { return uint32_t(std::max<int64_t>(0, d.count()) * 65536 / 1'000'000); }

}  // namespace

ReceiveStats::ReceiveStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}

bool ReceiveStats::on_packet(uint16_t seq, uint32_t rtp_ts, Timestamp arrival) {
  if (!started_) {
    started_ = true;
    init_seq(seq);
    ++received_;
    update_jitter(rtp_ts, arrival);
    return true;
  }
  if (!update_seq(seq)) return false;
  update_jitter(rtp_ts, arrival);
  return true;
}

// RFC 3550 §A.1 init_seq().
void ReceiveStats::init_seq(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // so seq == bad_seq_ is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
  has_transit_ = false;
}

// RFC 3550 §A.1 update_seq() without probation.
bool ReceiveStats::update_seq(uint16_t seq) {
  const uint16_t udelta = uint16_t(seq - max_seq_);
  if (udelta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // in order, with permissible gap, wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - kMaxMisorder) {
    // A very large jump: accept only if the next packet follows it (sender restarted).
    if (seq != bad_seq_) {
      bad_seq_ = (uint32_t(seq) + 1) & (kSeqMod - 1);
      return false;
    }
    init_seq(seq);
  }
  // else: duplicate or reordered packet, counted as received.
  ++received_;
  return true;
}

// RFC 3550 §A.8: J += (|D| - J) / 16, with J kept scaled by 16.
void ReceiveStats::update_jitter(uint32_t rtp_ts, Timestamp arrival) {
  const uint32_t arrival_rtp = uint32_t(to_micros(arrival) * int64_t(clock_rate_) / 1000000);
  const uint32_t transit = arrival_rtp - rtp_ts;
  if (has_transit_) {
    const int32_t d = int32_t(transit - last_transit_);
    const uint32_t abs_d = uint32_t(std::abs(int64_t(d)));
    jitter_q4_ += abs_d - ((jitter_q4_ + 8) >> 4);
  }
  has_transit_ = true;
  last_transit_ = transit;
}

void ReceiveStats::on_sender_report(uint64_t ntp, Timestamp arrival) {
  has_sr_ = true;
  lsr_ = uint32_t(ntp >> 16);  // middle 32 bits
  sr_arrival_ = arrival;
}

uint64_t ReceiveStats::packets_expected() const {
  if (!started_) return 0;
  return uint64_t(extended_highest_seq()) - base_seq_ + 1;
}

// RFC 3550 §A.3.
ReportBlockData ReceiveStats::make_report_block(uint32_t ssrc, Timestamp now) {
  ReportBlockData r;
  r.ssrc = ssrc;
  r.extended_highest_seq = extended_highest_seq();
  r.cumulative_lost = int32_t(std::clamp<int64_t>(cumulative_lost(), -0x800000, 0x7FFFFF));
  r.jitter = jitter();
  const uint64_t expected = packets_expected();
  const int64_t expected_interval = int64_t(expected - expected_prior_);
  const int64_t received_interval = int64_t(received_ - received_prior_);
  const int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected;
  received_prior_ = received_;
  if (expected_interval > 0 && lost_interval > 0) r.fraction_lost = uint8_t((lost_interval << 8) / expected_interval);
  if (has_sr_) {
    r.lsr = lsr_;
    r.dlsr = to_ntp_short(now - sr_arrival_);
  }
  return r;
}

}  // namespace strata::sfu
