#include "worker/viewer_session.hpp"

#include "common/random.hpp"
#include "rtp/rtcp_feedback.hpp"

namespace strata::worker {

ViewerSession::ViewerSession(Worker& worker, uint64_t id, transport::TransportConfig config,
                             std::vector<SlotTracks> slots, SessionEvents& events,
                             std::shared_ptr<sfu::ViewerLayerStats> layer_stats)
    : TransportSession(worker, id, std::move(config), events) {
  bool has_video = false;
  for (auto& t : slots) {
    Slot& s = slots_.emplace_back();
    if (t.video) s.video = std::make_unique<sfu::Consumer>(std::move(*t.video));
    if (t.audio) s.audio = std::make_unique<sfu::Consumer>(std::move(*t.audio));
    has_video = has_video || s.video;
  }
  downlink_slots_.resize(slots_.size());
  if (!has_video) return;
  // Any slot may get a simulcast host, so every viewer with video keeps a downlink
  // estimate (and puts the transport-cc extension on every packet, when negotiated).
  downlink_ = std::make_unique<sfu::DownlinkController>(std::move(layer_stats));
  for (auto& s : slots_) {
    for (sfu::Consumer* c : {s.video.get(), s.audio.get()}) {
      if (c && c->info().transport_cc_ext) c->set_transport_sequencer(&downlink_->sequencer());
    }
  }
}

bool ViewerSession::shows(SourceId source) const {
  for (const Slot& s : slots_) {
    if (s.source.source == source) return true;
  }
  return false;
}

void ViewerSession::show(size_t index, const SlotSource& source) {
  if (index >= slots_.size()) return;
  Slot& slot = slots_[index];
  const SourceId old = slot.source.source;
  const bool same = slot.source == source;
  slot.source = source;
  if (!same) {
    slot.replay.clear();  // the old host's pictures
    slot.replay_tried = false;
  }
  if (old && old != source.source && !shows(old)) worker_.unsubscribe(old, this);
  if (!source.source) return;
  worker_.subscribe(source.source, this);
  if (same) return;
  // A new host in this slot: its consumers start over at one of its keyframes, continuing
  // our sequence numbers (sfu::Consumer::set_source), and the selector starts over too.
  if (slot.video) slot.video->set_source(source.video_track, source.video_layers);
  if (slot.audio) slot.audio->set_source(source.audio_track, 1);
  if (downlink_) downlink_->reset_slot(index);
  // Before DTLS is up a keyframe would arrive too early to be forwarded and its request
  // would hold back (coalescing) the one sent once connected (on_tick).
  if (transport_.state() != transport::TransportState::kConnected) return;
  start_video(slot, worker_.now());
}

void ViewerSession::start_video(Slot& slot, Timestamp now) {
  if (!slot.video || !slot.source.source || slot.source.video_track == SlotSource::kNoTrack) return;
  if (start_replay(slot, now)) return;
  // A simulcast slot starts on the layer the selector picks first (the lowest): a keyframe
  // of the top layer would be of no use to it.
  request_upstream_keyframe(slot, slot.source.video_track, slot.video->selects_layers() ? slot.video->start_layer() : -1);
}

bool ViewerSession::start_replay(Slot& slot, Timestamp now) {
  if (slot.replay_tried) return false;
  slot.replay_tried = true;
  const sfu::KeyframeCache* cache = worker_.keyframe_cache(slot.source.source);
  if (!cache) return false;
  const sfu::KeyframeCache::Group group = cache->group(slot.source.video_track, uint8_t(slot.video->start_layer()), now);
  if (group.packets.empty()) return false;
  sfu::ReplayBudget::Lease lease =
      worker_.replay_budget().take(group.bytes, worker_.group().keyframe_cache().replay_budget_bytes);
  if (!lease) {  // a join storm: this viewer waits for a keyframe with the others
    worker_.metrics().keyframe_cache_replays_over_budget.add();
    return false;
  }
  slot.replay.start(group.packets, cache->replay_rate_bps(group), now, std::move(lease));
  worker_.metrics().keyframe_cache_replays.add();
  drain_replay(slot, now);
  return true;
}

// Sends what the pace allows of the slot's replay; once it is empty, the slot is live.
void ViewerSession::drain_replay(Slot& slot, Timestamp now) {
  while (const sfu::ReplayQueue::Entry* e = slot.replay.next(now)) {
    const size_t sent = send_media(*slot.video, e->packet, e->facts, now, true);
    if (sent) worker_.metrics().keyframe_cache_packets_out.add();
    slot.replay.pop(sent);
  }
}

void ViewerSession::set_favored(size_t slot, bool favored) {
  if (slot < slots_.size()) slots_[slot].favored = favored;
}

void ViewerSession::set_max_layer(std::optional<size_t> slot, int layer) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slot && *slot != i) continue;
    if (slots_[i].video) slots_[i].video->set_max_layer(layer);
  }
}

void ViewerSession::on_media(const FanoutItem& item, Timestamp now) {
  for (Slot& s : slots_) {
    if (s.source.source != item.source) continue;
    if (item.track == s.source.video_track && s.video) {
      // Connected since the last tick: start from the cache before a live packet of
      // another layer makes the consumer wait for that layer's keyframe instead. The cache
      // took this packet before handing it out, so the group may end with it already.
      if (!s.replay_tried && s.video->waiting_for_keyframe() &&
          transport_.state() == transport::TransportState::kConnected && start_replay(s, now) &&
          s.replay.ends_with(item.packet))
        continue;
      if (s.replay.active()) {
        s.replay.push({item.track, item.facts, item.packet, now});  // after the cached pictures
      } else {
        send_media(*s.video, item.packet, item.facts, now);
      }
    }
    if (item.track == s.source.audio_track && s.audio) send_media(*s.audio, item.packet, item.facts, now);
  }
}

size_t ViewerSession::send_media(sfu::Consumer& c, const PacketRef& packet, const sfu::PacketFacts& facts,
                                 Timestamp now, bool replayed) {
  size_t len = 0;
  const bool sent = send_protected(Protect::kRtp, [&](uint8_t* out, size_t capacity) {
    return len = c.write(packet, facts, now, out, capacity, replayed);
  });
  if (!sent) return 0;
  worker_.metrics().rtp_out.add();
  return len;
}

ViewerSession::Found ViewerSession::consumer_for_ssrc(uint32_t ssrc) {
  for (Slot& s : slots_) {
    for (sfu::Consumer* c : {s.video.get(), s.audio.get()}) {
      if (c && c->info().ssrc == ssrc) return {&s, c};
    }
  }
  return {};
}

void ViewerSession::on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) {
  size_t len = packet.size();
  auto kind = transport_.handle_datagram(packet.data(), &len, from, now, local);
  if (kind == transport::WebRtcTransport::Received::kRtcp) {
    worker_.metrics().rtcp_in.add();
    on_rtcp(packet.data(), len, now);
  }
  // Viewers are recvonly: RTP from them is ignored.
}

void ViewerSession::on_rtcp(const uint8_t* data, size_t len, Timestamp now) {
  rtp::RtcpIterator it(ByteSpan(data, len));
  while (auto v = it.next()) {
    if (downlink_ && downlink_->on_rtcp(*v, now)) continue;  // transport-cc, REMB
    if (v->is(rtp::RtcpType::kRr)) {
      if (auto rr = rtp::parse_receiver_report(*v)) {
        for (auto& b : rr->blocks) handle_report_block(b, now);
      }
    } else if (auto nack = rtp::parse_nack(*v)) {
      sfu::Consumer* c = consumer_for_ssrc(nack->media_ssrc).consumer;
      if (!c) continue;
      for (uint16_t seq : rtp::expand_nack_items(nack->items)) resend(*c, seq, now);
    } else if (auto pli = rtp::parse_pli(*v)) {
      if (auto f = consumer_for_ssrc(pli->media_ssrc); f.consumer) on_viewer_keyframe_request(*f.slot, *f.consumer);
    } else if (auto fir = rtp::parse_fir(*v)) {
      for (auto& e : fir->entries) {
        if (auto f = consumer_for_ssrc(e.ssrc); f.consumer) on_viewer_keyframe_request(*f.slot, *f.consumer);
      }
    }
  }
}

// The viewer lost its reference: a simulcast viewer needs a keyframe of the layer it is
// decoding (the one it is switching to, if any), not of the producer's top layer.
void ViewerSession::on_viewer_keyframe_request(Slot& slot, sfu::Consumer& c) {
  c.on_keyframe_request();
  worker_.metrics().keyframe_requests_in.add();
  if (!slot.source.source) return;
  int layer = -1;
  if (c.selects_layers()) {
    int pending = c.pending_layer(worker_.now());
    layer = pending >= 0 ? pending : c.current_layer();
  }
  request_upstream_keyframe(slot, c.info().source_track, layer);
}

void ViewerSession::handle_report_block(const rtp::ReportBlock& block, Timestamp now) {
  auto f = consumer_for_ssrc(block.ssrc);
  if (!f.consumer) return;
  f.consumer->on_report_block(block, ntp_now());
  if (downlink_ && f.consumer == f.slot->video.get()) downlink_->on_report_block(block, f.consumer->rtt(), now);
}

void ViewerSession::resend(sfu::Consumer& c, uint16_t seq, Timestamp now) {
  const bool sent = send_protected(
      Protect::kRtp, [&](uint8_t* out, size_t capacity) { return c.write_retransmission(seq, now, out, capacity); });
  if (sent) worker_.metrics().retransmissions_out.add();
}

// Re-selects every slot's layer, paces bandwidth probes, counts what changed for /metrics.
void ViewerSession::run_downlink(Timestamp now) {
  if (!downlink_) return;
  uint64_t switches = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    downlink_slots_[i] = sfu::DownlinkSlot{s.video.get(), s.source.source != 0, s.favored,
                                           s.audio && s.source.audio_track != SlotSource::kNoTrack};
    if (s.video) switches += s.video->layer_switches();
  }
  size_t probe_bytes = downlink_->on_tick(downlink_slots_, now);
  if (probe_bytes) {
    const size_t i = downlink_->probe_slot();
    if (i < slots_.size() && slots_[i].video) send_probes(*slots_[i].video, probe_bytes, now);
  }
  if (switches > counted_switches_) worker_.metrics().layer_switches.add(switches - counted_switches_);
  counted_switches_ = switches;
  if (uint64_t n = downlink_->probes(); n != counted_probes_) {
    worker_.metrics().bwe_probes.add(n - counted_probes_);
    counted_probes_ = n;
  }
}

void ViewerSession::send_probes(sfu::Consumer& video, size_t bytes, Timestamp now) {
  constexpr int kMaxPerTick = 32;
  for (int i = 0; i < kMaxPerTick && bytes > 0; ++i) {
    size_t n = 0;
    const bool sent = send_protected(Protect::kRtp, [&](uint8_t* out, size_t capacity) {
      return n = video.write_probe(downlink_->probe_cluster(), now, out, capacity);
    });
    if (!sent) return;
    worker_.metrics().probe_packets_out.add();
    bytes -= std::min(bytes, n);
  }
}

void ViewerSession::request_upstream_keyframe(const Slot& slot, uint32_t track, int layer) {
  UpstreamRef up = slot.source.upstream;
  worker_.group().at(up.worker).post([up, track, layer](Worker& w) {
    if (auto* s = w.find<PublisherSession>(up.session_id)) s->request_keyframe(track, w.now(), layer);
  });
}

// A slot starts at a keyframe: ask for one as soon as DTLS is up rather than wait for the
// next, and ask again while it still waits (the keyframe may have been lost). The
// producer coalesces these across viewers.
void ViewerSession::request_keyframes(Timestamp now) {
  for (Slot& s : slots_) {
    sfu::Consumer* c = s.video.get();
    if (!c || !s.source.source || s.source.video_track == SlotSource::kNoTrack || s.replay.active()) continue;
    // The first chance of a slot to start: from the cache when it holds a fresh keyframe.
    if (c->waiting_for_keyframe() && start_replay(s, now)) continue;
    if (c->selects_layers()) {
      // A simulcast consumer waits for a keyframe of the layer it switches to.
      if (int layer = c->pending_layer(now); layer >= 0) request_upstream_keyframe(s, s.source.video_track, layer);
    } else if (c->waiting_for_keyframe()) {
      request_upstream_keyframe(s, s.source.video_track);
    }
  }
}

void ViewerSession::on_tick(Timestamp now) {
  bool was_connected = reported_connected_;
  if (!tick_transport(now)) return;
  if (transport_.state() != transport::TransportState::kConnected) return;
  if (!was_connected || now >= next_keyframe_retry_) {
    next_keyframe_retry_ = now + kKeyframeRetry;
    request_keyframes(now);
  }
  for (Slot& s : slots_) {
    if (s.replay.active()) drain_replay(s, now);
  }
  run_downlink(now);
  Bytes rtcp;
  uint64_t ntp = 0;
  for (Slot& s : slots_) {
    for (sfu::Consumer* c : {s.video.get(), s.audio.get()}) {
      if (!c) continue;
      if (ntp == 0) ntp = ntp_now();
      c->collect_rtcp(now, ntp, rtcp);
    }
  }
  send_rtcp(rtcp);
}

void ViewerSession::on_close(Timestamp now) {
  if (!sent_bye_ && transport_.state() == transport::TransportState::kConnected) {
    sent_bye_ = true;
    Bytes rtcp;
    // RFC 3550 §6.6: BYE goes in a compound packet that starts with a report.
    rtp::ReceiverReport rr;
    for (Slot& s : slots_) {
      for (sfu::Consumer* c : {s.video.get(), s.audio.get()}) {
        if (c && rr.ssrc == 0) rr.ssrc = c->info().ssrc;
      }
    }
    rtp::append_receiver_report(rtcp, rr);
    for (Slot& s : slots_) {
      for (sfu::Consumer* c : {s.video.get(), s.audio.get()}) {
        if (c) c->append_bye(rtcp);
      }
    }
    send_rtcp(rtcp);
  }
  transport_.close(now);
}

}  // namespace strata::worker
