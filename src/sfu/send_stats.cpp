#include "sfu/send_stats.hpp"

namespace strata::sfu {

void SendStats::on_packet_sent(uint32_t rtp_ts, size_t payload_bytes, Timestamp now) {
  ++packets_;
  octets_ += payload_bytes;
  // Keep the first send time of the newest timestamp: later packets of the same frame
  // (paced out after it) would make the frame look younger than it is.
  if (!has_sent_ || int32_t(rtp_ts - last_rtp_ts_) > 0) {
    last_rtp_ts_ = rtp_ts;
    last_rtp_ts_sent_at_ = now;
  }
  has_sent_ = true;
}

SenderReportData SendStats::make_sender_report(uint64_t ntp_now, Timestamp now, uint32_t clock_rate) const {
  SenderReportData sr;
  sr.ntp = ntp_now;
  sr.packet_count = uint32_t(packets_);
  sr.octet_count = uint32_t(octets_);
  if (has_sent_) {
    const int64_t elapsed_us = (now - last_rtp_ts_sent_at_).count();
    sr.rtp_ts = last_rtp_ts_ + uint32_t(elapsed_us * int64_t(clock_rate) / 1'000'000);
  }
  return sr;
}

std::optional<Duration> SendStats::rtt_from_report(uint32_t lsr, uint32_t dlsr, uint64_t ntp_now) {
  if (lsr == 0) return std::nullopt;
  const uint32_t arrival = uint32_t(ntp_now >> 16);
  const int32_t rtt = int32_t(arrival - lsr - dlsr);  // 1/65536 s
  constexpr int32_t kRoundingSlack = 66;               // ~1 ms of NTP rounding
  if (rtt < -kRoundingSlack) return std::nullopt;
  if (rtt <= 0) return Duration(0);
  return Duration(int64_t(rtt) * 1'000'000 / 65536);
}

}  // namespace strata::sfu
