#include "worker/sessions.hpp"

#include "common/random.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtx.hpp"

namespace strata::worker {

// ---------------------------------------------------------------------------------------
// TransportSession

TransportSession::TransportSession(Worker& worker, uint64_t id, transport::TransportConfig config,
                                   SessionEvents& events)
    : worker_(worker), id_(id), events_(events), transport_(std::move(config), *this) {}

void TransportSession::send_datagram(const uint8_t* data, size_t len, const SocketAddress& to,
                                     const SocketAddress& from) {
  sender().send(data, len, to, from);
}

void TransportSession::on_address_selected(const SocketAddress& addr) {
  if (!own_sender_) worker_.bind_address(addr, this);  // an own socket needs no demux
}

void TransportSession::on_address_pending(const SocketAddress& addr) {
  if (!own_sender_) worker_.bind_address_if_free(addr, this);
}

void TransportSession::on_address_forgotten(const SocketAddress& addr) {
  if (!own_sender_) worker_.unbind_address(addr, this);
}

void TransportSession::restart_ice(const std::string& local_ufrag, const std::string& local_pwd,
                                   const std::string& remote_ufrag, const std::string& remote_pwd) {
  if (!previous_ufrag_.empty()) worker_.unbind_ufrag(previous_ufrag_);  // two generations back
  previous_ufrag_ = transport_.local_ufrag();
  transport_.restart_ice(local_ufrag, local_pwd, remote_ufrag, remote_pwd);
  worker_.bind_ufrag(local_ufrag, this);
}

void TransportSession::send_rtcp(const Bytes& compound) {
  if (compound.empty() || transport_.state() != transport::TransportState::kConnected) return;
  if (compound.size() + kSrtpMaxTrailer > SendBatch::kSlotSize) {
    // RTCP is not fragmented (RFC 3550 §6.1: one compound per lower-layer datagram); a
    // compound this large (a NACK naming hundreds of scattered losses) is lost whole.
    worker_.metrics().drop_rtcp_oversized.add();
    return;
  }
  const bool sent = send_protected(Protect::kRtcp, [&](uint8_t* slot, size_t) {
    std::memcpy(slot, compound.data(), compound.size());
    return compound.size();
  });
  if (sent) worker_.metrics().rtcp_out.add();
}

bool TransportSession::tick_transport(Timestamp now) {
  transport_.handle_tick(now);
  count_transport_drops();
  if (!previous_ufrag_.empty() && transport_.previous_local_ufrag().empty()) {
    worker_.unbind_ufrag(previous_ufrag_);  // the new generation took over
    previous_ufrag_.clear();
  }
  auto state = transport_.state();
  if (created_at_ == Timestamp{}) created_at_ = now;
  if (!reported_connected_ && !reported_ended_ && now - created_at_ > kConnectTimeout) {
    reported_ended_ = true;
    events_.on_session_ended(id_, "ICE/DTLS did not complete within 30 s of the offer");
    return false;
  }
  if (state == transport::TransportState::kConnected && !reported_connected_) {
    reported_connected_ = true;
    events_.on_session_connected(id_);
  }
  if ((state == transport::TransportState::kClosed || state == transport::TransportState::kFailed) &&
      !reported_ended_) {
    reported_ended_ = true;
    events_.on_session_ended(id_, transport_.failure_reason());
  }
  return !reported_ended_;
}

void TransportSession::count_transport_drops() {
  const auto& c = transport_.counters();
  auto& m = worker_.metrics();
  m.drop_stun_unauthenticated.add(c.stun_unauthenticated - last_counters_.stun_unauthenticated);
  m.drop_malformed.add(c.malformed - last_counters_.malformed);
  m.drop_srtp_auth.add(c.srtp_auth_failed - last_counters_.srtp_auth_failed);
  m.drop_not_ready.add(c.not_ready - last_counters_.not_ready);
  m.ice_stun_withheld.add(c.stun_withheld - last_counters_.stun_withheld);
  m.ice_verification_requests.add(c.verification_requests - last_counters_.verification_requests);
  m.ice_paths_verified.add(c.paths_verified - last_counters_.paths_verified);
  m.dtls_held_until_verified.add(c.dtls_held - last_counters_.dtls_held);
  m.drop_dtls_unverified.add(c.dtls_held_dropped - last_counters_.dtls_held_dropped);
  last_counters_ = c;
}

// ---------------------------------------------------------------------------------------
// PublisherSession

PublisherSession::PublisherSession(Worker& worker, uint64_t id, SourceId source,
                                   transport::TransportConfig config, std::vector<sfu::IngestTrackInfo> tracks,
                                   SessionEvents& events, sfu::NackConfig nack)
    : TransportSession(worker, id, std::move(config), events),
      source_(source),
      rtcp_ssrc_(random_u32()),
      transport_feedback_(rtcp_ssrc_) {
  for (auto& t : tracks) {
    if (t.extensions.transport_cc) transport_cc_id_ = t.extensions.transport_cc;
    producers_.push_back(std::make_unique<sfu::Producer>(std::move(t), rtcp_ssrc_, nack));
  }
}

void PublisherSession::on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) {
  size_t len = packet.size();
  auto kind = transport_.handle_datagram(packet.data(), &len, from, now, local);
  if (kind == transport::WebRtcTransport::Received::kRtp) {
    on_rtp(packet, len, now);
  } else if (kind == transport::WebRtcTransport::Received::kRtcp) {
    worker_.metrics().rtcp_in.add();
    on_rtcp(packet.data(), len, now);
  }
}

const PublisherSession::SsrcRoute* PublisherSession::route(const rtp::RtpPacket& p) {
  for (auto& r : routes_) {
    if (r.ssrc == p.ssrc()) return &r;
  }
  auto learned = learn_route(p);
  if (!learned) return nullptr;
  routes_.push_back(*learned);
  if (!producers_[learned->track]->info().rids.empty())
    events_.on_layer_ssrc_learned(id_, learned->track, learned->layer, learned->ssrc, learned->rtx);
  return &routes_.back();
}

// RFC 8843 §9.2 / RFC 8852: a new SSRC is matched to its m-line by the mid header extension
// (and to its encoding by rid / repaired-rid), else by a=ssrc lines, else by payload type.
std::optional<PublisherSession::SsrcRoute> PublisherSession::learn_route(const rtp::RtpPacket& p) {
  for (uint32_t t = 0; t < producers_.size(); ++t) {
    const auto& info = producers_[t]->info();
    for (size_t i = 0; i < info.ssrcs.size(); ++i) {
      if (info.ssrcs[i] == p.ssrc()) return SsrcRoute{p.ssrc(), t, info.rids.empty() ? 0 : int(i), false};
    }
    if (info.rtx_ssrc && *info.rtx_ssrc == p.ssrc()) return SsrcRoute{p.ssrc(), t, 0, true};
    // A relay from the origin: the layer SSRCs the origin learned from the host's rids.
    for (size_t i = 0; i < info.layer_ssrcs.size(); ++i) {
      if (info.layer_ssrcs[i] == p.ssrc()) return SsrcRoute{p.ssrc(), t, int(i), false};
    }
    for (size_t i = 0; i < info.layer_rtx_ssrcs.size(); ++i) {
      if (info.layer_rtx_ssrcs[i] == p.ssrc()) return SsrcRoute{p.ssrc(), t, int(i), true};
    }
  }
  if (producers_.empty()) return std::nullopt;
  // BUNDLE: one id per extension across m-lines (RFC 8843 §9.2), but each m-line only
  // lists the ones it uses (rid only on simulcast video), so look per track.
  int track = -1;
  for (uint32_t t = 0; t < producers_.size() && track < 0; ++t) {
    uint8_t mid_id = producers_[t]->info().extensions.mid;
    auto mid = mid_id ? rtp::read_mid(p, mid_id) : std::nullopt;
    if (!mid) continue;
    for (uint32_t u = 0; u < producers_.size(); ++u) {
      if (producers_[u]->info().mid == *mid) track = int(u);
    }
  }
  if (track < 0) {
    for (uint32_t t = 0; t < producers_.size(); ++t) {
      const auto& c = producers_[t]->info().codec;
      if (c.payload_type == p.payload_type() || (c.rtx_payload_type && *c.rtx_payload_type == p.payload_type()))
        track = int(t);
    }
  }
  if (track < 0) return std::nullopt;
  const auto& info = producers_[size_t(track)]->info();
  const auto& ext = info.extensions;
  bool rtx = info.codec.rtx_payload_type && *info.codec.rtx_payload_type == p.payload_type();
  int layer = 0;
  if (!info.rids.empty()) {
    auto rid = rtx ? (ext.repaired_rid ? rtp::read_repaired_rid(p, ext.repaired_rid) : std::nullopt)
                   : (ext.rid ? rtp::read_rid(p, ext.rid) : std::nullopt);
    if (!rid) return std::nullopt;  // wait for a packet that names its encoding
    layer = -1;
    for (size_t i = 0; i < info.rids.size(); ++i) {
      if (info.rids[i] == *rid) layer = int(i);
    }
    if (layer < 0) return std::nullopt;
  }
  return SsrcRoute{p.ssrc(), uint32_t(track), layer, rtx};
}

void PublisherSession::on_rtp(PacketRef& packet, size_t len, Timestamp now) {
  auto p = rtp::RtpPacket::parse(packet.data(), len);
  if (!p) {
    worker_.metrics().drop_malformed.add();
    return;
  }
  const SsrcRoute* r = route(*p);
  if (!r) {
    worker_.metrics().drop_unknown_ssrc.add();
    return;
  }
  worker_.metrics().rtp_in.add();
  last_rtp_ = now;
  if (stall_reported_) {
    stall_reported_ = false;
    events_.on_upstream_stalled(id(), false);
  }
  if (transport_cc_id_) {
    if (auto seq = rtp::read_transport_cc_seq(*p, transport_cc_id_)) transport_feedback_.on_packet(p->ssrc(), *seq, now);
  }
  sfu::Producer& producer = *producers_[r->track];
  bool recovered = false;
  if (r->rtx) {
    // RFC 4588 §4: turn the retransmission back into the original packet, in place.
    uint32_t media_ssrc = 0;
    for (auto& o : routes_) {
      if (!o.rtx && o.track == r->track && o.layer == r->layer) media_ssrc = o.ssrc;
    }
    if (!media_ssrc) {
      // The repaired stream's SSRC is learned from its own packets (or a=ssrc); until one
      // arrived there is nothing to restore the RTX packet into.
      worker_.metrics().drop_rtx_unknown_media_ssrc.add();
      return;
    }
    auto restored = rtp::restore_from_rtx(*p, producer.info().codec.payload_type, media_ssrc);
    if (!restored) {
      // RFC 4588 §4: no 2-byte original sequence number, i.e. a padding-only bandwidth probe
      // (what browsers send on the RTX SSRC) or a truncated packet.
      worker_.metrics().drop_rtx_unrestorable.add();
      return;
    }
    p = restored;
    recovered = true;
  }
  packet->size = p->size();
  auto verdict = producer.on_rtp(*p, r->layer, recovered, now);
  if (verdict.duplicate) {
    worker_.metrics().drop_duplicate_rtx.add();
    return;
  }
  // Every layer goes out with its facts: each viewer slot picks its layer, relays take all.
  if (producer.info().kind == sfu::MediaKind::kAudio) note_audio_level(*p, producer);
  worker_.fan_out(FanoutItem{source_, r->track, verdict.facts, packet});
}

void PublisherSession::on_rtcp(const uint8_t* data, size_t len, Timestamp now) {
  rtp::RtcpIterator it(ByteSpan(data, len));
  while (auto v = it.next()) {
    if (!v->is(rtp::RtcpType::kSr)) continue;
    auto sr = rtp::parse_sender_report(*v);
    if (!sr) continue;
    for (auto& r : routes_) {
      if (r.ssrc == sr->ssrc && !r.rtx) producers_[r.track]->on_sender_report(r.layer, *sr, now);
    }
  }
}

void PublisherSession::note_audio_level(const rtp::RtpPacket& p, const sfu::Producer& producer) {
  const uint8_t id = producer.info().extensions.audio_level;
  if (!id) return;
  if (auto level = rtp::read_audio_level(p, id); level && (loudest_level_ < 0 || level->level < loudest_level_))
    loudest_level_ = level->level;
}

void PublisherSession::report_audio_level(Timestamp now) {
  if (now < next_level_report_ || loudest_level_ < 0) return;
  next_level_report_ = now + kAudioLevelPeriod;
  events_.on_audio_level(id_, uint8_t(loudest_level_));
  loudest_level_ = -1;
}

void PublisherSession::check_stall(Timestamp now) {
  if (stall_reported_ || last_rtp_ == Timestamp{} || now - last_rtp_ < kStallAfter) return;
  stall_reported_ = true;
  events_.on_upstream_stalled(id(), true);
}

void PublisherSession::on_tick(Timestamp now) {
  if (!tick_transport(now)) return;
  report_audio_level(now);
  if (transport_.state() != transport::TransportState::kConnected) return;
  check_stall(now);
  Bytes rtcp;
  if (transport_feedback_.collect(now, rtcp)) {
    send_rtcp(rtcp);
    rtcp.clear();
  }
  for (auto& p : producers_) {
    uint64_t pli_before = p->keyframe_requests_sent(), nack_before = p->nacks_sent();
    p->collect_rtcp(now, rtcp);
    worker_.metrics().keyframe_requests_out.add(p->keyframe_requests_sent() - pli_before);
    worker_.metrics().nacks_out.add(p->nacks_sent() - nack_before);
    if (!rtcp.empty()) {
      send_rtcp(rtcp);
      rtcp.clear();
    }
  }
}

void PublisherSession::request_keyframe(uint32_t track, Timestamp now, int layer) {
  if (track < producers_.size()) producers_[track]->request_keyframe(now, layer);
}

void PublisherSession::on_close(Timestamp now) {
  transport_.close(now);
}

}  // namespace strata::worker
