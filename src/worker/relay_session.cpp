#include "worker/relay_session.hpp"

#include <cstring>

#include "common/bytes.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet.hpp"

namespace strata::worker {

RelaySendSession::RelaySendSession(Worker& worker, uint64_t id, SourceId source, UpstreamRef upstream,
                                   transport::TransportConfig config, SessionEvents& events)
    : TransportSession(worker, id, std::move(config), events), source_(source), upstream_(upstream) {}

RelaySendSession::SentStream* RelaySendSession::find_stream(uint32_t ssrc) {
  for (auto& s : streams_) {
    if (s->ssrc == ssrc) return s.get();
  }
  return nullptr;
}

RelaySendSession::SentStream& RelaySendSession::stream_for(uint32_t ssrc, uint32_t track, uint8_t layer) {
  if (SentStream* s = find_stream(ssrc)) return *s;
  auto s = std::make_unique<SentStream>();
  s->ssrc = ssrc;
  s->track = track;
  s->layer = layer;
  streams_.push_back(std::move(s));
  return *streams_.back();
}

bool RelaySendSession::send_packet(const PacketRef& packet) {
  if (packet.size() + kSrtpMaxTrailer > SendBatch::kSlotSize) return false;
  return send_protected(Protect::kRtp, [&](uint8_t* slot, size_t) {
    std::memcpy(slot, packet.data(), packet.size());
    return packet.size();
  });
}

size_t RelaySendSession::forward(SentStream& s, const PacketRef& packet, Timestamp now) {
  s.sent.insert(load_be16(packet.data() + 2), packet, now);  // replayed or live: NACK-able alike
  if (!send_packet(packet)) return 0;
  ++packets_sent_;
  worker_.metrics().rtp_out.add();
  return packet.size();
}

void RelaySendSession::on_media(const FanoutItem& item, Timestamp now) {
  if (transport_.state() != transport::TransportState::kConnected) return;
  // Connected since the last tick: the cached groups go before any live packet.
  if (!replays_started_ && start_replays(now, &item.packet)) return;
  const PacketRef& packet = item.packet;
  // The producer parsed and checked it (FanoutItem::facts): only the SSRC is read here.
  if (packet.size() < 12) return;
  SentStream& s = stream_for(load_be32(packet.data() + 8), item.track, item.facts.layer);
  if (s.replay.active()) {
    s.replay.push({item.track, item.facts, packet, now});  // behind the cached pictures
    return;
  }
  forward(s, packet, now);
}

// Every cached layer, not only the one a viewer would start on: the edge runs its own
// layer choice per viewer. The cache keeps one group per track and layer of one SSRC (a
// new SSRC invalidates it), so its first packet names the stream it continues.
bool RelaySendSession::start_replays(Timestamp now, const PacketRef* current) {
  replays_started_ = true;
  const sfu::KeyframeCache* cache = worker_.keyframe_cache(source_);
  if (!cache) return false;
  bool queued_current = false;
  cache->for_each_group(now, [&](uint32_t track, uint8_t layer, const sfu::KeyframeCache::Group& g) {
    SentStream& s = stream_for(load_be32(g.packets.front().packet.data() + 8), track, layer);
    // Each layer at its own replay rate: together the layers go at the sum of theirs.
    s.replay.start(g.packets, cache->replay_rate_bps(g), now);
    s.replay_answers_until = kNever;
    queued_current = queued_current || (current && g.packets.back().packet.get() == current->get());
    worker_.metrics().keyframe_cache_replays.add();
  });
  for (auto& s : streams_) drain_replay(*s, now);
  return queued_current;
}

// Sends what the pace allows of the stream's replay; once it is empty, the stream is live.
void RelaySendSession::drain_replay(SentStream& s, Timestamp now) {
  if (!s.replay.active()) return;
  while (const sfu::ReplayQueue::Entry* e = s.replay.next(now)) {
    const size_t sent = forward(s, e->packet, now);
    if (sent) worker_.metrics().keyframe_cache_packets_out.add();
    s.replay.pop(sent);
  }
  if (!s.replay.active()) s.replay_answers_until = now + kReplayAnswersKeyframeRequests;
}

void RelaySendSession::on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) {
  size_t len = packet.size();
  auto kind = transport_.handle_datagram(packet.data(), &len, from, now, local);
  if (kind == transport::WebRtcTransport::Received::kRtcp) {
    worker_.metrics().rtcp_in.add();
    on_rtcp(packet.data(), len, now);
  }
}

void RelaySendSession::on_rtcp(const uint8_t* data, size_t len, Timestamp now) {
  // The edge's first keyframe request may come before our first tick since DTLS ended:
  // the replay that answers it starts now.
  if (!replays_started_) start_replays(now, nullptr);
  rtp::RtcpIterator it(ByteSpan(data, len));
  while (auto v = it.next()) {
    if (auto nack = rtp::parse_nack(*v)) {
      SentStream* s = find_stream(nack->media_ssrc);
      if (!s) continue;
      for (uint16_t seq : rtp::expand_nack_items(nack->items)) {
        PacketRef* p = s->sent.find(seq, now);
        if (p && send_packet(*p)) worker_.metrics().retransmissions_out.add();
      }
    } else if (auto pli = rtp::parse_pli(*v)) {
      if (SentStream* s = find_stream(pli->media_ssrc)) on_keyframe_request(*s, now);
    } else if (auto fir = rtp::parse_fir(*v)) {
      for (auto& e : fir->entries) {
        if (SentStream* s = find_stream(e.ssrc)) on_keyframe_request(*s, now);
      }
    }
  }
}

// RFC 4585 §6.3.1 (PLI) / RFC 5104 §3.5.1 (FIR): the edge needs a decoding refresh point
// of this layer. A replay that runs or just ended sends it one, from the cached keyframe.
void RelaySendSession::on_keyframe_request(SentStream& s, Timestamp now) {
  worker_.metrics().keyframe_requests_in.add();
  if (now < s.replay_answers_until) {
    worker_.metrics().keyframe_cache_requests_answered.add();
    return;
  }
  ++keyframe_requests_forwarded_;
  request_upstream_keyframe(s.track, s.layer);
}

// Edges' keyframe requests join the viewers' at the host's Producer, which coalesces them.
void RelaySendSession::request_upstream_keyframe(uint32_t track, int layer) {
  UpstreamRef up = upstream_;
  worker_.group().at(up.worker).post([up, track, layer](Worker& w) {
    if (auto* s = w.find<PublisherSession>(up.session_id))
      s->request_keyframe(track, w.now(), layer);
  });
}

void RelaySendSession::on_tick(Timestamp now) {
  if (!tick_transport(now) || transport_.state() != transport::TransportState::kConnected) return;
  if (!replays_started_) start_replays(now, nullptr);
  for (auto& s : streams_) drain_replay(*s, now);
}

void RelaySendSession::on_close(Timestamp now) { transport_.close(now); }

}  // namespace strata::worker
