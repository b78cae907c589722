#include "sfu/keyframe_cache.hpp"

#include "common/bytes.hpp"

namespace strata::sfu {

KeyframeCache::Layer* KeyframeCache::find(uint32_t track, uint8_t layer) {
  for (Layer& l : layers_) {
    if (l.track == track && l.layer == layer) return &l;
  }
  return nullptr;
}

const KeyframeCache::Layer* KeyframeCache::find(uint32_t track, uint8_t layer) const {
  for (const Layer& l : layers_) {
    if (l.track == track && l.layer == layer) return &l;
  }
  return nullptr;
}

void KeyframeCache::close(Layer& l) {
  l.open = false;
  l.bytes = 0;
  l.entries.clear();  // drops the buffer references, keeps the capacity
}

void KeyframeCache::add(uint32_t track, const PacketFacts& facts, const PacketRef& packet, Timestamp now) {
  if (!config_.enabled || packet.size() < 12) return;
  const uint8_t* rtp = packet.data();
  const uint32_t ssrc = load_be32(rtp + 8);
  const uint8_t payload_type = rtp[1] & 0x7F;
  const uint32_t timestamp = load_be32(rtp + 4);
  Layer* l = find(track, facts.layer);
  if (!l) {
    if (!facts.keyframe) return;  // audio and tracks that never had a keyframe: nothing to keep
    l = &layers_.emplace_back();
    l->track = track;
    l->layer = facts.layer;
  }
  meter(*l, packet.size(), now);
  if (l->open && (ssrc != l->ssrc || payload_type != l->payload_type)) {
    // Another encoder behind this layer: its old pictures are no reference for the new one.
    close(*l);
    ++counters_.invalidated;
  }
  // A keyframe may span packets that all say so (H.264: SPS/PPS, then the IDR slice): one
  // group per picture, so only a new timestamp restarts it.
  if (facts.keyframe && facts.frame_start && !(l->open && timestamp == l->keyframe_ts)) {
    close(*l);
    l->open = true;
    l->ssrc = ssrc;
    l->payload_type = payload_type;
    l->keyframe_ts = timestamp;
    l->started = now;
    ++counters_.groups;
  }
  if (!l->open) return;
  if (now - l->started > config_.max_age) {
    close(*l);  // too old to serve: let the buffers go now rather than at the next keyframe
    ++counters_.expired;
    return;
  }
  if (l->bytes + packet.size() > config_.max_bytes) {
    close(*l);
    ++counters_.over_bytes;
    return;
  }
  l->bytes += packet.size();
  l->entries.push_back(Entry{track, facts, packet, now});
}

KeyframeCache::Group KeyframeCache::group(uint32_t track, uint8_t layer, Timestamp now) const {
  const Layer* l = find(track, layer);
  return l ? fresh_group(*l, now) : Group{};
}

KeyframeCache::Group KeyframeCache::fresh_group(const Layer& l, Timestamp now) const {
  if (!config_.enabled || !l.open || l.entries.empty() || now - l.started > config_.max_age) return {};
  return Group{l.entries, l.rate_bps, l.bytes};
}

void KeyframeCache::meter(Layer& l, size_t bytes, Timestamp now) {
  if (l.window_start == Timestamp{}) l.window_start = now;
  const Duration elapsed = now - l.window_start;
  if (elapsed >= kRateWindow) {
    l.rate_bps = int64_t(double(l.window_bytes) * 8 / std::chrono::duration<double>(elapsed).count());
    l.window_start = now;
    l.window_bytes = 0;
  }
  l.window_bytes += bytes;
}

size_t KeyframeCache::packets() const {
  size_t n = 0;
  for (const Layer& l : layers_) n += l.entries.size();
  return n;
}

}  // namespace strata::sfu
