#include "loadtest/viewer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include "codecs/vp8.hpp"
#include "common/random.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtp_packet.hpp"

namespace strata::loadtest {
namespace {
constexpr Duration kRrInterval = std::chrono::seconds(1);
constexpr Duration kTwccInterval = std::chrono::milliseconds(100);
constexpr Duration kNackInterval = std::chrono::milliseconds(20);
constexpr Duration kNackRetry = std::chrono::milliseconds(60);
constexpr int kNackTries = 6;
constexpr Duration kPliAfter = std::chrono::seconds(2);
}  // namespace

Viewer::Viewer(ViewerSetup setup)
    : setup_(std::move(setup)),
      transport_(std::make_unique<transport::WebRtcTransport>(setup_.transport, static_cast<Output&>(*this))),
      local_ssrc_(random_u32()) {
  stats_.post_sent = setup_.post_sent;
  stats_.post_attempts = setup_.post_attempts;
  stats_.delay_ms.reserve(256);
  rtcp_.reserve(1500);
  nack_seqs_.reserve(64);
}

Viewer::~Viewer() = default;

void Viewer::send_datagram(const uint8_t* data, size_t len, const SocketAddress& to) {
  ::sendto(setup_.fd, data, len, MSG_DONTWAIT, to.sockaddr_ptr(), to.sockaddr_len());
}

void Viewer::on_datagram(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) {
  if (len >= 12 && data[0] >= 128 && data[0] <= 191 && !rtp::looks_like_rtcp(ByteSpan(data, len))) {
    on_rtp(data, len, from, now);
    return;
  }
  size_t plain = len;
  // STUN, DTLS, SRTCP (only a BYE matters: the server's reports are not needed)
  if (transport_->handle_datagram(data, &plain, from, now) == transport::WebRtcTransport::Received::kRtcp)
    on_rtcp(data, plain, now);
  if (transport_->state() == transport::TransportState::kConnected && stats_.connected == Timestamp{}) {
    stats_.connected = now;
    next_rr_ = now + kRrInterval;
    next_twcc_ = now + kTwccInterval;
    next_nack_ = now + kNackInterval;
    next_pli_ = now + kPliAfter;
  }
}

void Viewer::on_rtcp(const uint8_t* data, size_t len, Timestamp now) {
  rtp::RtcpIterator it(ByteSpan(data, len));
  while (auto v = it.next())
    if (v->is(rtp::RtcpType::kBye) && stats_.bye_at == Timestamp{}) stats_.bye_at = now;
}

bool Viewer::decrypt(uint8_t* data, size_t* len, const SocketAddress& from, Timestamp now) {
  ++stats_.sampled;
  auto r = transport_->handle_datagram(data, len, from, now);
  uint64_t failed = transport_->counters().srtp_auth_failed;
  stats_.auth_failures += failed - auth_failed_before_;
  auth_failed_before_ = failed;
  return r == transport::WebRtcTransport::Received::kRtp;
}

void Viewer::on_rtp(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) {
  if (transport_->state() != transport::TransportState::kConnected) return;
  const RemoteMedia& rm = setup_.remote;
  auto h = parse_rtp_header(ByteSpan(data, len), rm.twcc_id);
  if (!h) {
    ++stats_.malformed;
    return;
  }
  ++stats_.packets;
  stats_.bytes += len;
  stats_.last_media = now;
  if (!stats_.has_media()) stats_.first_media = now;
  if (h->twcc_seq) twcc_->on_packet(*h->twcc_seq, now);
  if (rm.rtx_pt && h->payload_type == rm.rtx_pt) return on_rtx(data, len, from, now);
  bool video = h->payload_type == rm.video_pt;
  if (!video && h->payload_type != rm.audio_pt) return;
  SequenceTracker& seq = video ? stats_.video_seq : stats_.audio_seq;
  (video ? video_ssrc_ : audio_ssrc_) = h->ssrc;
  if (seq.on_packet(h->sequence) == SequenceTracker::Result::kNew)
    (video ? stats_.video_jitter : stats_.audio_jitter).on_packet(h->timestamp, now);
  bool periodic = stats_.packets % kSampleEvery == 0;
  bool sample = periodic || stats_.packets <= kFirstDecrypted || (video && stats_.first_keyframe == Timestamp{});
  if (!sample) return;
  size_t plain = len;
  // Delay only from the periodic sample: the first packets may be a server's cached
  // keyframe burst, which would say more about the cache than about forwarding.
  if (decrypt(data, &plain, from, now)) inspect_decrypted(data, plain, video, periodic, now);
}

void Viewer::inspect_decrypted(uint8_t* data, size_t len, bool video, bool measure_delay, Timestamp now) {
  auto p = rtp::RtpPacket::parse(data, len);
  if (!p) return;
  ByteSpan payload = p->payload();
  size_t skip = 0;
  if (video) {
    auto d = codecs::parse_vp8(payload);
    if (!d) return;
    if (d->keyframe && stats_.first_keyframe == Timestamp{}) stats_.first_keyframe = now;
    skip = d->size;
  }
  if (!measure_delay || !setup_.delays || payload.size() <= skip) return;
  auto sent = setup_.delays->lookup(media_fingerprint(payload.data() + skip, payload.size() - skip));
  if (!sent) return;
  int64_t delay_us = to_micros(now) - *sent;
  if (delay_us >= 0 && delay_us < 10'000'000) stats_.delay_ms.push_back(float(delay_us) / 1000.0f);
}

void Viewer::on_rtx(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) {
  ++stats_.rtx_packets;
  size_t plain = len;
  if (!decrypt(data, &plain, from, now)) return;
  auto p = rtp::RtpPacket::parse(data, plain);
  // RFC 4588 §4: the RTX payload starts with the original sequence number (OSN).
  if (!p || p->payload_size() < 2) return;
  stats_.video_seq.on_repaired(load_be16(p->payload().data()));
}

void Viewer::on_tick(Timestamp now) {
  transport_->handle_tick(now);
  auto st = transport_->state();
  if ((st == transport::TransportState::kFailed || st == transport::TransportState::kClosed) && stats_.error.empty()) {
    stats_.error = transport_->failure_reason().empty() ? std::string("transport ") + to_string(st) : transport_->failure_reason();
    stats_.ended_at = now;
    return;
  }
  if (st != transport::TransportState::kConnected) return;
  if (now >= next_twcc_) {
    next_twcc_ = now + kTwccInterval;
    if (twcc_->build(local_ssrc_, video_ssrc_ ? video_ssrc_ : audio_ssrc_, fb_)) {
      rtcp_.clear();
      if (rtp::append_transport_feedback(rtcp_, fb_)) protect_and_send(rtcp_), ++stats_.twcc_sent;
    }
  }
  if (now >= next_nack_) {
    next_nack_ = now + kNackInterval;
    nack_seqs_.clear();
    stats_.video_seq.collect_nacks(now, kNackRetry, kNackTries, nack_seqs_);
    if (!nack_seqs_.empty() && video_ssrc_) {
      rtcp_.clear();
      if (rtp::append_nack(rtcp_, rtp::Nack{local_ssrc_, video_ssrc_, rtp::nack_items_from_sequences(nack_seqs_)}))
        protect_and_send(rtcp_), ++stats_.nacks_sent;
    }
  }
  if (now >= next_rr_) {
    next_rr_ = now + kRrInterval;
    send_receiver_report();
  }
  if (stats_.first_keyframe == Timestamp{} && video_ssrc_ && now >= next_pli_) {
    next_pli_ = now + kPliAfter;
    rtcp_.clear();
    if (rtp::append_pli(rtcp_, rtp::Pli{local_ssrc_, video_ssrc_})) protect_and_send(rtcp_), ++stats_.plis_sent;
  }
}

void Viewer::send_receiver_report() {
  rtp::ReportBlock blocks[2];
  size_t n = 0;
  auto block = [&](uint32_t ssrc, SequenceTracker& seq, const JitterEstimator& jitter) {
    if (!ssrc || !seq.started()) return;
    rtp::ReportBlock& b = blocks[n++];
    b.ssrc = ssrc;
    b.fraction_lost = seq.take_fraction_lost();
    b.cumulative_lost = int32_t(std::min<uint64_t>(seq.lost(), 0x7FFFFF));
    b.highest_seq = uint32_t(seq.highest());
    b.jitter = jitter.jitter_units();
  };
  block(video_ssrc_, stats_.video_seq, stats_.video_jitter);
  block(audio_ssrc_, stats_.audio_seq, stats_.audio_jitter);
  if (n == 0) return;
  Bytes rr = rtp::build_compound_feedback(local_ssrc_, std::span(blocks, n), {}, "bench");
  if (!rr.empty()) protect_and_send(rr), ++stats_.rr_sent;
}

void Viewer::protect_and_send(Bytes& rtcp) {
  size_t len = rtcp.size(), out = 0;
  rtcp.resize(len + kSrtpMaxTrailer);
  auto to = transport_->remote_address();
  if (to && transport_->protect_rtcp(rtcp.data(), len, rtcp.size(), &out)) send_datagram(rtcp.data(), out, *to);
}

// A long churn run starts tens of thousands of sessions and keeps each one's stats for the
// report: the connection's state (OpenSSL, SRTP, the transport-cc ring) goes now.
void Viewer::close(Timestamp now) {
  transport_->close(now);
  transport_.reset();
  twcc_.reset();
  rtcp_ = Bytes();
  fb_ = rtp::TransportFeedback();
  stats_.closed_at = now;
}

}  // namespace strata::loadtest
