// One direction of an emulated WAN link, as a pure scheduler: packets come in with their
// size and arrival time, and each gets a verdict (forward at a release time, or drop).
// It reads no clock and holds no packet bytes; the caller keeps the packets and releases
// them when their time comes (see ReleaseQueue). Deterministic for a given seed.
//
// The model, in the order a packet meets it (like a bottleneck router followed by a long
// wire, and close to what netem + tbf do):
//  1. Queue: with a rate cap, packets wait in a FIFO of at most queue_packets packets
//     (counting the one being serialized). A packet that finds it full is tail-dropped.
//  2. Serialization: departure = max(now, link free time) + bytes*8/rate.
//  3. Loss on the wire: Bernoulli(loss), or Gilbert-Elliott bursts when loss_burst > 1.
//  4. Propagation: release = departure + delay + jitter, jitter uniform (or normal, sigma =
//     jitter/2, clipped) within ±jitter and never before departure. Unless reorder is set,
//     release = max(release, previous release) so packets keep their order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/time.hpp"
#include "rng.hpp"

namespace strata::wan_emu {

enum class JitterDistribution { kUniform, kNormal };

struct DirectionParams {
  double delay_ms = 0;
  double jitter_ms = 0;
  JitterDistribution jitter_distribution = JitterDistribution::kUniform;
  double loss = 0;         // mean loss probability, 0..1
  double loss_burst = 0;   // mean loss burst length in packets; <= 1 means independent loss
  uint64_t rate_kbit = 0;  // 0 = no rate cap
  uint32_t queue_packets = 1000;  // bottleneck buffer with a rate cap; 0 = unlimited
  bool reorder = false;    // let jitter reorder packets
};

enum class Verdict { kForward, kDropLoss, kDropQueue };

struct Decision {
  Verdict verdict = Verdict::kForward;
  Timestamp release{};  // meaningful for kForward only
};

struct DirectionCounters {
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t forwarded = 0;  // given a release time
  uint64_t dropped_loss = 0;
  uint64_t dropped_queue = 0;
  int64_t total_delay_us = 0;  // sum over forwarded packets of release - arrival

  double mean_delay_ms() const {
    return forwarded == 0 ? 0.0 : double(total_delay_us) / double(forwarded) / 1000.0;
  }
};

class LinkDirection {
 public:
  LinkDirection(const DirectionParams& params, uint64_t seed);

  // Decides the fate of one packet of `bytes` bytes arriving at `now`. Calls must come with
  // non-decreasing `now`.
  Decision on_packet(size_t bytes, Timestamp now);

  // Packets in the bottleneck queue at `now` (0 without a rate cap).
  size_t queue_length(Timestamp now);
  const DirectionCounters& counters() const { return counters_; }
  const DirectionParams& params() const { return params_; }

 private:
  bool queue_full(Timestamp now);
  int64_t serialize(size_t bytes, Timestamp now);  // departure time in ns
  bool lose_packet();
  int64_t jitter_ns();

  DirectionParams params_;
  Rng rng_;
  // Gilbert-Elliott (simple Gilbert: Bad always loses, Good never): p(G->B), p(B->G).
  double p_good_to_bad_ = 0;
  double p_bad_to_good_ = 1;
  bool bad_state_ = false;
  // Times in ns since the Timestamp epoch: serialization at µs granularity would drift.
  int64_t link_free_ns_ = 0;
  int64_t last_release_ns_ = 0;
  // Departure times of the packets still in the bottleneck queue, as a fixed ring (sized
  // once, so no allocation per packet). Departures are non-decreasing (FIFO).
  std::vector<int64_t> departures_;
  size_t ring_head_ = 0;
  size_t ring_size_ = 0;
  DirectionCounters counters_;
};

}  // namespace strata::wan_emu
