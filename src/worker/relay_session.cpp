#include "worker/relay_session.hpp"

#include <cstring>

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

void RelaySendSession::on_media(const FanoutItem& item, Timestamp now) {
  if (transport_.state() != transport::TransportState::kConnected) return;
  const PacketRef& packet = item.packet;
  auto p = rtp::RtpPacket::parse(packet.data(), packet.size());
  if (!p) return;
  stream_for(p->ssrc(), item.track, item.facts.layer).sent.insert(p->sequence(), packet, now);
  if (send_packet(packet)) {
    ++packets_sent_;
    worker_.metrics().rtp_out.add();
  }
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
      if (SentStream* s = find_stream(pli->media_ssrc)) {
        worker_.metrics().keyframe_requests_in.add();
        request_upstream_keyframe(s->track, s->layer);
      }
    } else if (auto fir = rtp::parse_fir(*v)) {
      for (auto& e : fir->entries) {
        if (SentStream* s = find_stream(e.ssrc)) {
          worker_.metrics().keyframe_requests_in.add();
          request_upstream_keyframe(s->track, s->layer);
        }
      }
    }
  }
}

// Edges' keyframe requests join the viewers' at the host's Producer, which coalesces them.
void RelaySendSession::request_upstream_keyframe(uint32_t track, int layer) {
  UpstreamRef up = upstream_;
  worker_.group().at(up.worker).post([up, track, layer](Worker& w) {
    if (auto* s = w.find<PublisherSession>(up.session_id))
      s->request_keyframe(track, w.now(), layer);
  });
}

void RelaySendSession::on_tick(Timestamp now) { tick_transport(now); }

void RelaySendSession::on_close(Timestamp now) { transport_.close(now); }

}  // namespace strata::worker
