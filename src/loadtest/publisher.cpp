#include "loadtest/publisher.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/random.hpp"
#include "common/srtp_keys.hpp"
#include "loadtest/signaling.hpp"
#include "loadtest/vp8_packetizer.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet_builder.hpp"

namespace strata::loadtest {
namespace {
constexpr int64_t kOpusFrameUs = 20'000;
constexpr Duration kMaxLag = std::chrono::seconds(1);
constexpr Duration kJumpInterval = std::chrono::milliseconds(500);
}  // namespace

Publisher::Publisher(PublisherSetup setup) : setup_(std::move(setup)) {
  if (setup_.transport) transport_ = std::make_unique<transport::WebRtcTransport>(*setup_.transport, static_cast<transport::WebRtcTransport::Output&>(*this));
  const Clip& clip = *setup_.clip;
  for (size_t i = 0; i < clip.layers.size(); ++i) {
    auto s = std::make_unique<Stream>();
    s->ssrc = setup_.video_ssrcs.at(i);
    s->video = &clip.layers[i];
    s->rid = clip.layers.size() > 1 ? clip.rids[i] : "";
    s->seq = uint16_t(random_u32());
    s->picture_id = uint16_t(random_u32() & 0x7FFF);
    s->ts_base = random_u32();
    streams_.push_back(std::move(s));
  }
  auto a = std::make_unique<Stream>();
  a->ssrc = setup_.audio_ssrc;
  a->clock_rate = 48000;
  a->seq = uint16_t(random_u32());
  a->ts_base = random_u32();
  streams_.push_back(std::move(a));
}

Publisher::~Publisher() = default;

void Publisher::send_datagram(const uint8_t* data, size_t len, const SocketAddress& to) {
  ::sendto(setup_.fd, data, len, MSG_DONTWAIT, to.sockaddr_ptr(), to.sockaddr_len());
}

void Publisher::on_datagram(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) {
  if (!transport_) return;  // plain RTP: nothing to answer
  size_t plain = len;
  if (transport_->handle_datagram(data, &plain, from, now) == transport::WebRtcTransport::Received::kRtcp)
    on_rtcp(data, plain, now);
}

void Publisher::start(Timestamp now) {
  stats_.started = now;
  for (auto& s : streams_) s->epoch = now;
  next_sr_ = now + std::chrono::seconds(1);
}

void Publisher::on_tick(Timestamp now) {
  if (transport_) {
    transport_->handle_tick(now);
    auto st = transport_->state();
    if (st == transport::TransportState::kFailed || st == transport::TransportState::kClosed) {
      if (stats_.error.empty()) stats_.error = transport_->failure_reason();
      return;
    }
    if (st != transport::TransportState::kConnected) return;
  }
  if (!sending()) start(now);
  for (auto& s : streams_) send_due(*s, now);
  if (transport_ && now >= next_sr_) {
    next_sr_ = now + std::chrono::seconds(1);
    send_sender_reports(now);
  }
}

int64_t Publisher::clip_time_us(const Stream& s, size_t index) const {
  return s.video ? s.video->frame_time_us(index) : int64_t(index) * kOpusFrameUs;
}

int64_t Publisher::loop_duration_us(const Stream& s) const {
  return s.video ? s.video->duration_us() : int64_t(setup_.clip->audio.packets.size()) * kOpusFrameUs;
}

uint32_t Publisher::rtp_time(const Stream& s, Timestamp t) const {
  int64_t us = (t - stats_.started).count();
  return s.ts_base + uint32_t(us * int64_t(s.clock_rate) / 1'000'000);
}

void Publisher::send_due(Stream& s, Timestamp now) {
  size_t count = s.video ? s.video->frames.size() : setup_.clip->audio.packets.size();
  if (count == 0) return;
  if (now - (s.epoch + Duration(clip_time_us(s, s.next))) > kMaxLag)  // the loop stalled: do not burst
    s.epoch = now - Duration(clip_time_us(s, s.next));
  for (Timestamp due; (due = s.epoch + Duration(clip_time_us(s, s.next))) <= now;) {
    if (s.video) {
      send_video_frame(s, due);
    } else {
      const Bytes& p = setup_.clip->audio.packets[s.next];
      send_packet(s, p, false, due);
    }
    if (++s.next == count) {
      s.next = 0;
      s.epoch += Duration(loop_duration_us(s));
    }
  }
}

void Publisher::send_video_frame(Stream& s, Timestamp due) {
  const Bytes& frame = s.video->frames[s.next].data;
  Vp8Packetizer pk(frame, s.picture_id, kMaxPayload);
  s.picture_id = uint16_t((s.picture_id + 1) & 0x7FFF);
  for (size_t i = 0; i < pk.packet_count(); ++i) {
    size_t n = pk.write(i, payload_.data(), payload_.size());
    if (n == 0) break;
    if (setup_.delays && n > kVp8DescriptorSize)
      setup_.delays->record(media_fingerprint(payload_.data() + kVp8DescriptorSize, n - kVp8DescriptorSize),
                            to_micros(SteadyClock().now()));
    send_packet(s, ByteSpan(payload_.data(), n), i + 1 == pk.packet_count(), due);
  }
}

void Publisher::send_packet(Stream& s, ByteSpan payload, bool marker, Timestamp due) {
  uint8_t twcc[2];
  store_be16(twcc, twcc_seq_++);
  uint16_t seq = s.seq++;
  rtp::RtpPacketBuilder b;
  b.payload_type(s.video ? kVp8Pt : kOpusPt).sequence(seq).timestamp(rtp_time(s, due)).ssrc(s.ssrc).marker(marker);
  b.extension(kExtMidId, std::string_view(s.video ? "1" : "0")).extension(kExtTwccId, ByteSpan(twcc, 2));
  if (!s.rid.empty()) b.extension(kExtRidId, std::string_view(s.rid));
  b.payload(payload);
  size_t len = b.write(packet_.data(), packet_.size() - kSrtpMaxTrailer);
  if (len == 0) return;
  Sent& slot = s.ring[seq % kRingSlots];
  if (len <= slot.data.size()) {
    slot.seq = seq;
    slot.len = uint16_t(len);
    std::memcpy(slot.data.data(), packet_.data(), len);
  }
  ++s.packets;
  s.octets += payload.size();
  transmit(s, packet_.data(), len);
}

void Publisher::transmit(Stream& s, uint8_t* data, size_t len) {
  if (!transport_) {
    send_datagram(data, len, s.video ? setup_.plain_video_to : setup_.plain_audio_to);
  } else {
    size_t out = 0;
    auto to = transport_->remote_address();
    if (!to || !transport_->protect_rtp(data, len, packet_.size(), &out)) return;
    send_datagram(data, out, *to);
    len = out;
  }
  ++stats_.packets;
  stats_.bytes += len;
}

void Publisher::on_rtcp(const uint8_t* data, size_t len, Timestamp now) {
  rtp::RtcpIterator it(ByteSpan(data, len));
  while (auto v = it.next()) {
    if (v->is(rtp::RtcpType::kRtpfb) && v->fmt() == rtp::kFmtNack) {
      auto nack = rtp::parse_nack(*v);
      if (!nack) continue;
      ++stats_.nacks;
      for (uint16_t seq : rtp::expand_nack_items(nack->items)) resend(nack->media_ssrc, seq);
    } else if (v->is(rtp::RtcpType::kPsfb) && (v->fmt() == rtp::kFmtPli || v->fmt() == rtp::kFmtFir)) {
      ++stats_.keyframe_requests;
      jump_to_keyframe(now);
    }
  }
}

void Publisher::resend(uint32_t ssrc, uint16_t seq) {
  for (auto& s : streams_) {
    if (s->ssrc != ssrc) continue;
    Sent& slot = s->ring[seq % kRingSlots];
    if (slot.len == 0 || slot.seq != seq) return;  // too old: gone from the ring
    std::memcpy(packet_.data(), slot.data.data(), slot.len);
    ++stats_.retransmitted;
    transmit(*s, packet_.data(), slot.len);
    return;
  }
}

// The clip is pre-encoded, so "encode a keyframe now" becomes "play from the next keyframe
// now" on every layer at once (their keyframes sit at the same clip times).
void Publisher::jump_to_keyframe(Timestamp now) {
  if (!sending() || now - last_jump_ < kJumpInterval) return;
  last_jump_ = now;
  ++stats_.jumps;
  for (auto& s : streams_) {
    if (!s->video) continue;
    const auto& frames = s->video->frames;
    size_t n = frames.size(), k = s->next;
    for (size_t i = 0; i < n; ++i, k = (k + 1) % n)
      if (frames[k].keyframe) break;
    s->next = k;
    s->epoch = now - Duration(clip_time_us(*s, k));
  }
}

void Publisher::send_sender_reports(Timestamp now) {
  Bytes out;
  for (auto& s : streams_) {
    if (s->packets == 0) continue;
    rtp::SenderReport sr;
    sr.ssrc = s->ssrc;
    sr.ntp = ntp_now();
    sr.rtp_ts = rtp_time(*s, now);
    sr.packet_count = uint32_t(s->packets);
    sr.octet_count = uint32_t(s->octets);
    out.clear();
    rtp::append_sender_report(out, sr);
    rtp::append_sdes(out, rtp::Sdes{{rtp::SdesChunk{s->ssrc, "bench"}}});
    size_t len = out.size(), protected_len = 0;
    out.resize(len + kSrtpMaxTrailer);
    auto to = transport_->remote_address();
    if (to && transport_->protect_rtcp(out.data(), len, out.size(), &protected_len)) send_datagram(out.data(), protected_len, *to);
  }
}

void Publisher::close(Timestamp now) {
  if (transport_) transport_->close(now);
}

}  // namespace strata::loadtest
