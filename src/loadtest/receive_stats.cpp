#include "loadtest/receive_stats.hpp"

#include <algorithm>
#include <cmath>

namespace strata::loadtest {

std::optional<RtpHeaderInfo> parse_rtp_header(ByteSpan p, uint8_t twcc_id) {
  if (p.size() < 12 || (p[0] >> 6) != 2) return std::nullopt;
  RtpHeaderInfo h;
  h.marker = (p[1] & 0x80) != 0;
  h.payload_type = p[1] & 0x7F;
  h.sequence = load_be16(&p[2]);
  h.timestamp = load_be32(&p[4]);
  h.ssrc = load_be32(&p[8]);
  size_t pos = 12 + 4 * size_t(p[0] & 0x0F);
  if (pos > p.size()) return std::nullopt;
  if (p[0] & 0x10) {
    if (pos + 4 > p.size()) return std::nullopt;
    uint16_t profile = load_be16(&p[pos]);
    size_t ext_len = 4 * size_t(load_be16(&p[pos + 2]));
    size_t begin = pos + 4, end = begin + ext_len;
    if (end > p.size()) return std::nullopt;
    // RFC 8285 §4.2 one-byte elements: ID(4) | L(4) with length L+1; ID 15 stops parsing.
    if (profile == 0xBEDE && twcc_id != 0) {
      for (size_t i = begin; i < end;) {
        uint8_t b = p[i];
        if (b == 0) { ++i; continue; }
        uint8_t id = b >> 4;
        size_t len = size_t(b & 0x0F) + 1;
        if (id == 15 || i + 1 + len > end) break;
        if (id == twcc_id && len == 2) h.twcc_seq = load_be16(&p[i + 1]);
        i += 1 + len;
      }
    }
    pos = end;
  }
  h.header_size = pos;
  return h;
}

SequenceTracker::Result SequenceTracker::on_packet(uint16_t seq) {
  if (!started_) {
    started_ = true;
    base_ = highest_ = seq;
    set(highest_, true);
    received_ = 1;
    return Result::kNew;
  }
  // Unwrap relative to the highest seen (RFC 3550 A.1): the nearest extended value.
  int16_t delta = int16_t(uint16_t(seq - uint16_t(highest_)));
  int64_t ext = highest_ + delta;
  if (ext > highest_) {
    int64_t gap_from = std::max(highest_ + 1, ext - kWindow + 1);
    if (ext - highest_ > kWindow) bits_.fill(false);
    for (int64_t s = gap_from; s < ext; ++s) {
      set(s, false);
      add_pending(s);
    }
    set(ext, true);
    highest_ = ext;
    ++received_;
    return Result::kNew;
  }
  if (ext < base_) return Result::kTooOld;  // before the first packet: not ours to count
  if (highest_ - ext >= kWindow) return Result::kTooOld;
  if (test(ext)) {
    ++duplicates_;
    return Result::kDuplicate;
  }
  set(ext, true);
  ++received_;
  remove_pending(ext);
  return Result::kFilled;
}

void SequenceTracker::add_pending(int64_t ext) {
  if (pending_count_ == kMaxPendingNacks) {  // drop the oldest: it is the least likely to be repaired
    std::move(pending_.begin() + 1, pending_.end(), pending_.begin());
    --pending_count_;
  }
  pending_[pending_count_++] = Pending{ext, 0, Timestamp{}};
}

void SequenceTracker::remove_pending(int64_t ext) {
  for (size_t i = 0; i < pending_count_; ++i) {
    if (pending_[i].seq == ext) {
      std::move(pending_.begin() + i + 1, pending_.begin() + pending_count_, pending_.begin() + i);
      --pending_count_;
      return;
    }
  }
}

void SequenceTracker::collect_nacks(Timestamp now, Duration retry, int max_tries, std::vector<uint16_t>& out) {
  size_t kept = 0;
  for (size_t i = 0; i < pending_count_; ++i) {
    Pending p = pending_[i];
    if (p.tries >= max_tries || highest_ - p.seq >= kWindow) continue;  // give up: stays lost
    if (p.next <= now) {
      out.push_back(uint16_t(p.seq));
      ++p.tries;
      p.next = now + retry;
    }
    pending_[kept++] = p;
  }
  pending_count_ = kept;
}

uint8_t SequenceTracker::take_fraction_lost() {
  uint64_t exp = expected(), rec = received_;
  int64_t exp_interval = int64_t(exp - prior_expected_);
  int64_t rec_interval = int64_t(rec - prior_received_);
  prior_expected_ = exp;
  prior_received_ = rec;
  int64_t lost_interval = exp_interval - rec_interval;
  if (exp_interval <= 0 || lost_interval <= 0) return 0;
  return uint8_t(std::min<int64_t>(255, (lost_interval << 8) / exp_interval));
}

void JitterEstimator::on_packet(uint32_t rtp_timestamp, Timestamp arrival) {
  // Arrival in RTP units; only differences matter, so the epoch is irrelevant.
  int64_t arrival_units = int64_t(double(to_micros(arrival)) * clock_rate_ / 1e6);
  int64_t transit = int64_t(uint32_t(arrival_units) - rtp_timestamp);
  transit = int32_t(uint32_t(transit));
  if (have_last_) {
    int64_t d = int32_t(uint32_t(transit - last_transit_));
    jitter_ += (std::fabs(double(d)) - jitter_) / 16.0;
  }
  last_transit_ = transit;
  have_last_ = true;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * double(values.size()));
  size_t idx = rank < 1 ? 0 : size_t(rank) - 1;
  return values[std::min(idx, values.size() - 1)];
}

}  // namespace strata::loadtest
