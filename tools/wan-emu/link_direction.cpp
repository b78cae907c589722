#include "link_direction.hpp"

#include <algorithm>
#include <cmath>

namespace strata::wan_emu {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;

int64_t to_ns(Timestamp t) { return to_micros(t) * 1000; }
// Rounds up so a packet is never released before its computed time.
Timestamp from_ns(int64_t ns) { return Timestamp(Duration((ns + 999) / 1000)); }

}  // namespace

LinkDirection::LinkDirection(const DirectionParams& params, uint64_t seed)
    : params_(params), rng_(seed) {
  if (params_.loss_burst > 1.0 && params_.loss > 0.0 && params_.loss < 1.0) {
    // Simple Gilbert model: the stationary share of Bad is q/(q+r) = loss and a Bad run
    // lasts 1/r packets on average, so r = 1/burst and q = loss*r/(1-loss).
    p_bad_to_good_ = 1.0 / params_.loss_burst;
    p_good_to_bad_ = std::min(1.0, params_.loss * p_bad_to_good_ / (1.0 - params_.loss));
  }
  if (params_.rate_kbit > 0 && params_.queue_packets > 0) departures_.resize(params_.queue_packets);
}

size_t LinkDirection::queue_length(Timestamp now) {
  const int64_t now_ns = to_ns(now);
  while (ring_size_ > 0 && departures_[ring_head_] <= now_ns) {
    ring_head_ = (ring_head_ + 1) % departures_.size();
    --ring_size_;
  }
  return ring_size_;
}

bool LinkDirection::queue_full(Timestamp now) {
  if (departures_.empty()) return false;  // no rate cap or unlimited queue
  return queue_length(now) >= departures_.size();
}

int64_t LinkDirection::serialize(size_t bytes, Timestamp now) {
  const int64_t now_ns = to_ns(now);
  if (params_.rate_kbit == 0) return now_ns;
  // bytes*8 bits at rate_kbit*1000 bit/s = bytes*8e6/rate_kbit ns.
  const int64_t tx_ns = int64_t(bytes) * 8'000'000 / int64_t(params_.rate_kbit);
  link_free_ns_ = std::max(now_ns, link_free_ns_) + tx_ns;
  if (!departures_.empty()) {
    departures_[(ring_head_ + ring_size_) % departures_.size()] = link_free_ns_;
    ++ring_size_;
  }
  return link_free_ns_;
}

bool LinkDirection::lose_packet() {
  if (params_.loss <= 0.0) return false;
  if (params_.loss >= 1.0) return true;
  if (params_.loss_burst <= 1.0) return rng_.bernoulli(params_.loss);
  bad_state_ = bad_state_ ? !rng_.bernoulli(p_bad_to_good_) : rng_.bernoulli(p_good_to_bad_);
  return bad_state_;
}

int64_t LinkDirection::jitter_ns() {
  if (params_.jitter_ms <= 0.0) return 0;
  const double j = params_.jitter_ms;
  double ms = 0;
  if (params_.jitter_distribution == JitterDistribution::kUniform) {
    ms = rng_.uniform(-j, j);
  } else {
    ms = std::clamp(rng_.normal() * j / 2.0, -j, j);
  }
  return int64_t(std::llround(ms * double(kNsPerMs)));
}

Decision LinkDirection::on_packet(size_t bytes, Timestamp now) {
  ++counters_.packets_in;
  counters_.bytes_in += bytes;
  if (queue_full(now)) {
    ++counters_.dropped_queue;
    return {Verdict::kDropQueue, {}};
  }
  const int64_t departure_ns = serialize(bytes, now);
  // Lost on the wire after it used the bottleneck, as a real lossy hop would.
  if (lose_packet()) {
    ++counters_.dropped_loss;
    return {Verdict::kDropLoss, {}};
  }
  const int64_t delay_ns = int64_t(std::llround(params_.delay_ms * double(kNsPerMs)));
  int64_t release_ns = std::max(departure_ns, departure_ns + delay_ns + jitter_ns());
  if (!params_.reorder) release_ns = std::max(release_ns, last_release_ns_);
  last_release_ns_ = std::max(last_release_ns_, release_ns);

  const Timestamp release = from_ns(release_ns);
  ++counters_.forwarded;
  counters_.total_delay_us += (release - now).count();
  return {Verdict::kForward, release};
}

}  // namespace strata::wan_emu
