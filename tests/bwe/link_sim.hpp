// Test-only sans-IO network model: sender -> drop-tail bottleneck (capacity, queue
// limit, random loss) -> propagation delay -> receiver, which answers with transport-cc
// feedback (every 50 ms, like Chromium) that travels back to the estimator.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <utility>
#include <vector>

#include "bwe/downlink_estimator.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::bwe::test {

using namespace std::chrono_literals;

inline Timestamp t0() { return Timestamp(Duration(1'000'000'000)); }

struct LinkConfig {
  Bitrate capacity = 2'000'000;
  Duration propagation = 20ms;   // each way
  Duration max_queue = 400ms;    // drop-tail when the queue holds more than this
  double random_loss = 0.0;
  Duration feedback_interval = 50ms;
  bool duplicate_feedback = false;
  bool reorder_feedback = false;  // deliver feedback pairs swapped
  uint32_t seed = 1;
};

class LinkSim {
 public:
  LinkSim(DownlinkEstimator& est, LinkConfig cfg, int64_t first_seq = 0)
      : est_(est), cfg_(cfg), rng_(cfg.seed), now_(t0()), next_seq_(first_seq), next_feedback_(t0() + cfg.feedback_interval) {}

  Timestamp now() const { return now_; }
  void set_capacity(Bitrate c) { cfg_.capacity = c; }
  int64_t dropped() const { return dropped_; }

  void send(size_t bytes, int probe_cluster = -1) {
    const int64_t seq = next_seq_++;
    est_.on_packet_sent(uint16_t(seq), bytes, now_, probe_cluster);
    const int64_t now_us = to_micros(now_);
    const bool lost = std::uniform_real_distribution<double>(0, 1)(rng_) < cfg_.random_loss;
    if (lost || free_at_us_ - now_us > cfg_.max_queue.count()) {
      ++dropped_;
      in_flight_.push_back({seq, -1});
      return;
    }
    free_at_us_ = std::max(free_at_us_, now_us) + int64_t(bytes) * 8 * 1'000'000 / cfg_.capacity;
    in_flight_.push_back({seq, free_at_us_ + cfg_.propagation.count()});
  }

  // Advances time, producing and delivering feedback.
  void advance(Duration d) {
    const Timestamp end = now_ + d;
    while (now_ < end) {
      now_ = std::min(end, next_feedback_);
      if (now_ == next_feedback_) {
        make_feedback();
        next_feedback_ += cfg_.feedback_interval;
      }
      deliver_feedback();
    }
  }

 private:
  static constexpr int64_t kReceiverClockOffsetUs = 7'000'000;

  void make_feedback() {
    const int64_t now_us = to_micros(now_);
    size_t last = 0;  // one past the newest packet that has arrived
    for (size_t i = 0; i < in_flight_.size(); ++i) {
      if (in_flight_[i].second >= 0 && in_flight_[i].second <= now_us) last = i + 1;
      if (in_flight_[i].second > now_us) break;
    }
    if (last == 0) return;
    rtp::TransportFeedback fb;
    fb.base_seq = uint16_t(in_flight_[0].first);
    fb.fb_pkt_count = fb_count_++;
    int64_t first_rx = -1;
    for (size_t i = 0; i < last; ++i) {
      if (in_flight_[i].second >= 0) { first_rx = in_flight_[i].second + kReceiverClockOffsetUs; break; }
    }
    fb.reference_time = int32_t(first_rx / rtp::kTwccReferenceTickUs);
    int64_t prev = fb.reference_time_us();
    for (size_t i = 0; i < last; ++i) {
      rtp::TwccPacketStatus s{uint16_t(in_flight_[i].first), in_flight_[i].second >= 0, 0};
      if (s.received) {
        const int64_t rx = (in_flight_[i].second + kReceiverClockOffsetUs) / rtp::kTwccDeltaTickUs * rtp::kTwccDeltaTickUs;
        s.delta_us = rx - prev;
        prev = rx;
      }
      fb.packets.push_back(s);
    }
    in_flight_.erase(in_flight_.begin(), in_flight_.begin() + long(last));
    const Timestamp at = now_ + cfg_.propagation;
    if (cfg_.reorder_feedback && !pending_.empty() && !held_) {
      held_ = true;  // swap with the previous one
      pending_.insert(pending_.end() - 1, {at, fb});
      pending_.back().first = at;
    } else {
      held_ = false;
      pending_.push_back({at, fb});
    }
    if (cfg_.duplicate_feedback) pending_.push_back({at, fb});
  }

  void deliver_feedback() {
    while (!pending_.empty() && pending_.front().first <= now_) {
      est_.on_transport_feedback(pending_.front().second, now_);
      pending_.pop_front();
    }
  }

  DownlinkEstimator& est_;
  LinkConfig cfg_;
  std::mt19937 rng_;
  Timestamp now_;
  int64_t next_seq_;
  Timestamp next_feedback_;
  int64_t free_at_us_ = 0;
  int64_t dropped_ = 0;
  uint8_t fb_count_ = 0;
  bool held_ = false;
  std::deque<std::pair<int64_t, int64_t>> in_flight_;  // seq, arrival us (-1 = lost)
  std::deque<std::pair<Timestamp, rtp::TransportFeedback>> pending_;
};

// Paces packets of up to 1200 bytes at a rate, 1 ms at a time.
class Pacer {
 public:
  // Returns the packet sizes to send during the next `dt`.
  template <typename F>
  void tick(Bitrate rate, Duration dt, F&& send) {
    budget_bits_ += double(rate) * std::chrono::duration<double>(dt).count();
    while (budget_bits_ >= kPacketBits) {
      send(size_t(kPacketBits / 8));
      budget_bits_ -= kPacketBits;
    }
  }
 private:
  static constexpr double kPacketBits = 1200 * 8;
  double budget_bits_ = 0;
};

}  // namespace strata::bwe::test
