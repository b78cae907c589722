// Keyframe cache: per track and simulcast layer of one source, the packets from its last
// keyframe on, so that a viewer (or a slot that gets a new host) starts at once from the
// cached group of pictures instead of asking the host for a keyframe and waiting for it.
//
// Zero-copy: entries are PacketRefs to the same buffers the fan-out and the consumers'
// retransmission buffers hold. Bounded by age and bytes (KeyframeCacheConfig): a group
// older than max_age is dropped, never served (the viewer asks the host instead); one over
// max_bytes is dropped until the next keyframe. A change of SSRC or payload type on a layer
// (the host restarted, or another codec) invalidates that layer. Pure: packets and time in.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "common/packet_buffer.hpp"
#include "common/time.hpp"
#include "sfu/track.hpp"

namespace strata::sfu {

struct KeyframeCacheConfig {
  bool enabled = true;
  // The oldest keyframe served. A replay of a group this old takes max_age / (pace_gain - 1)
  // of fast-forward before the viewer is live.
  Duration max_age = std::chrono::seconds(3);
  size_t max_bytes = 2u << 20;  // RTP bytes per track and layer
  // A replay goes at this multiple of the cached group's own bit rate (loss from a
  // line-rate burst is what stopped other servers from shipping one).
  // 2.5x: fast enough to be live again within max_age / 1.5, slow enough that a viewer
  // whose link holds 2.5x the layer (the layer selector's margin) does not drop the burst.
  double pace_gain = 2.5;
  // Floor of the replay rate, for layers whose rate is not known yet.
  int64_t min_pace_bps = 200'000;
  // Per worker: the cached bytes all its viewers' replays may have left to send
  // (sfu::ReplayBudget); 0 = no limit.
  size_t replay_budget_bytes = 8u << 20;
};

class KeyframeCache {
 public:
  struct Entry {
    uint32_t track = 0;
    PacketFacts facts;
    PacketRef packet;
    Timestamp arrived{};
  };
  struct Group {
    std::span<const Entry> packets;  // the keyframe's first packet first, in arrival order
    int64_t rate_bps = 0;            // the layer's bit rate (0: not known yet)
    size_t bytes = 0;                // RTP bytes of `packets`
  };
  struct Counters {
    uint64_t groups = 0;         // keyframes that started a group
    uint64_t invalidated = 0;    // SSRC or payload type changed
    uint64_t over_bytes = 0;     // dropped for max_bytes
    uint64_t expired = 0;        // dropped for max_age
  };

  explicit KeyframeCache(KeyframeCacheConfig config = {}) : config_(config) {}

  // Every packet of the source, in arrival order. `packet` is a parsed-valid RTP packet.
  void add(uint32_t track, const PacketFacts& facts, const PacketRef& packet, Timestamp now);
  // The cached group of `track`'s `layer`, or empty packets when there is none or it is
  // older than max_age.
  Group group(uint32_t track, uint8_t layer, Timestamp now) const;
  // Calls f(track, layer, group) for every track and layer that has a fresh group, in the
  // order the layers were first seen: for a subscriber that takes every layer (a relay).
  template <class F>
  void for_each_group(Timestamp now, F&& f) const {
    for (const Layer& l : layers_) {
      const Group g = fresh_group(l, now);
      if (!g.packets.empty()) f(l.track, l.layer, g);
    }
  }
  // The rate a replay of `g` goes at: pace_gain times its layer's rate, at least min_pace_bps.
  int64_t replay_rate_bps(const Group& g) const {
    return std::max(int64_t(double(g.rate_bps) * config_.pace_gain), config_.min_pace_bps);
  }

  const KeyframeCacheConfig& config() const { return config_; }
  const Counters& counters() const { return counters_; }
  size_t packets() const;  // held now, every track and layer

 private:
  struct Layer {
    uint32_t track = 0;
    uint8_t layer = 0;
    bool open = false;  // collecting since a keyframe
    uint32_t ssrc = 0;
    uint8_t payload_type = 0;
    uint32_t keyframe_ts = 0;  // RTP timestamp of the group's keyframe
    Timestamp started{};
    size_t bytes = 0;
    std::vector<Entry> entries;  // capacity kept across groups: no allocation once warm
    // The layer's rate over the last whole window, whatever the groups (a group that holds
    // only its keyframe has no rate of its own, and the keyframe is its costliest part).
    Timestamp window_start{};
    size_t window_bytes = 0;
    int64_t rate_bps = 0;
  };
  static constexpr Duration kRateWindow = std::chrono::milliseconds(500);
  static void meter(Layer& l, size_t bytes, Timestamp now);
  Layer* find(uint32_t track, uint8_t layer);
  const Layer* find(uint32_t track, uint8_t layer) const;
  static void close(Layer& l);
  Group fresh_group(const Layer& l, Timestamp now) const;

  KeyframeCacheConfig config_;
  std::vector<Layer> layers_;
  Counters counters_;
};

}  // namespace strata::sfu
