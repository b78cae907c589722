// The two kinds of session a worker hosts: a publisher (WHIP: one transport, its
// Producers) and a viewer (WHEP: one transport, its Consumers). They glue the sans-IO
// pieces (transport, sfu) to the worker's socket and fan-out.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sfu/consumer.hpp"
#include "sfu/downlink_controller.hpp"
#include "sfu/producer.hpp"
#include "sfu/transport_feedback_generator.hpp"
#include "transport/webrtc_transport.hpp"
#include "worker/worker.hpp"

namespace strata::worker {

// Worker → control plane notifications. Called on a worker thread; implementations must be
// thread-safe and must not block on that worker.
class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  virtual void on_session_connected(uint64_t session_id) = 0;
  // The transport ended by itself (DTLS close/failure, ICE consent lapse).
  virtual void on_session_ended(uint64_t session_id, std::string reason) = 0;
  // A publisher's simulcast encoding (or its RTX) was matched to its SSRC by rid.
  virtual void on_layer_ssrc_learned(uint64_t session_id, uint32_t track, int layer, uint32_t ssrc, bool rtx) {
    (void)session_id, (void)track, (void)layer, (void)ssrc, (void)rtx;
  }
  // A host's loudest RFC 6464 audio level (-dBov, 0 loudest .. 127 silence) of the last
  // ~100 ms, for the live's active speaker.
  virtual void on_audio_level(uint64_t session_id, uint8_t level) { (void)session_id, (void)level; }
  // A connected publisher (an edge's relay ingest included) received no RTP for
  // PublisherSession::kStallAfter (stalled = true), or RTP again after that (false).
  virtual void on_upstream_stalled(uint64_t session_id, bool stalled) { (void)session_id, (void)stalled; }
};

// Shared plumbing: transport output into the worker's send batch, RTCP protection,
// end-of-life detection.
class TransportSession : public Session, protected transport::WebRtcTransport::Output {
 public:
  TransportSession(Worker& worker, uint64_t id, transport::TransportConfig config, SessionEvents& events);
  static bool is(Kind k) { return k != Kind::kOther; }  // every kind but test doubles
  uint64_t id() const override { return id_; }
  transport::WebRtcTransport& transport() { return transport_; }
  // Send through a socket of this session's own (relay client) instead of the worker's.
  void use_own_socket(SendBatch* sender) { own_sender_ = sender; }
  // ICE restart: new credentials and a new ufrag the worker routes STUN by. The old ufrag
  // stays routed to this session until the transport stops answering the old generation
  // (its first check with the new credentials), checked on every tick.
  void restart_ice(const std::string& local_ufrag, const std::string& local_pwd, const std::string& remote_ufrag,
                   const std::string& remote_pwd);

 protected:
  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress& from) override;
  void on_address_selected(const SocketAddress& addr) override;
  void on_address_pending(const SocketAddress& addr) override;
  void on_address_forgotten(const SocketAddress& addr) override;
  // Protects and sends a compound RTCP packet.
  void send_rtcp(const Bytes& compound);
  // The one way media and RTCP leave a session: `write(slot, capacity)` writes one plain
  // packet into the next send slot (room left for the SRTP/SRTCP trailer) and returns its
  // length (0: nothing to send); it is protected in place (RFC 3711 §3.3 / §3.4) and queued to
  // the address ICE selected, from the local address that pair uses. False when nothing was
  // queued (not connected, nothing written, protection failed).
  enum class Protect { kRtp, kRtcp };
  template <class Write>
  bool send_protected(Protect kind, Write&& write);
  // Runs the transport's timers and reports state changes; returns false once ended.
  bool tick_transport(Timestamp now);
  void count_transport_drops();
  SendBatch& sender() { return own_sender_ ? *own_sender_ : worker_.sender(); }

  Worker& worker_;
  const uint64_t id_;
  SessionEvents& events_;
  transport::WebRtcTransport transport_;
  SendBatch* own_sender_ = nullptr;
  std::string previous_ufrag_;  // still routed here after an ICE restart (see restart_ice)
  // A client that never completes ICE and DTLS (it went away after POST) must not hold
  // a session forever: consent freshness only starts once ICE has nominated.
  static constexpr Duration kConnectTimeout = std::chrono::seconds(30);
  Timestamp created_at_{};
  bool reported_connected_ = false;
  bool reported_ended_ = false;
  transport::WebRtcTransport::Counters last_counters_{};
};

template <class Write>
bool TransportSession::send_protected(Protect kind, Write&& write) {
  if (transport_.state() != transport::TransportState::kConnected) return false;
  auto to = transport_.remote_address();
  if (!to) return false;
  SendBatch& out = sender();
  uint8_t* slot = out.slot_data();
  const size_t len = write(slot, SendBatch::kSlotSize - kSrtpMaxTrailer);
  if (len == 0) return false;
  size_t protected_len = 0;
  const bool ok = kind == Protect::kRtp ? transport_.protect_rtp(slot, len, SendBatch::kSlotSize, &protected_len)
                                        : transport_.protect_rtcp(slot, len, SendBatch::kSlotSize, &protected_len);
  if (!ok) return false;
  out.commit(protected_len, *to, transport_.local_address());
  return true;
}

class PublisherSession final : public TransportSession {
 public:
  static bool is(Kind k) { return k == Kind::kPublisher; }
  Kind kind() const override { return Kind::kPublisher; }
  // `source`: the fan-out key this host's packets go out under (viewer slots subscribe to it).
  PublisherSession(Worker& worker, uint64_t id, SourceId source, transport::TransportConfig config,
                   std::vector<sfu::IngestTrackInfo> tracks, SessionEvents& events, sfu::NackConfig nack = {});
  // The upstream path's round-trip time (an edge's relay: measured when it was set up).
  void set_path_rtt(Duration rtt) {
    for (auto& p : producers_) p->set_rtt(rtt);
  }
  void on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) override;
  void on_tick(Timestamp now) override;
  void on_close(Timestamp now) override;
  void request_keyframe(uint32_t track, Timestamp now, int layer = -1);
  SourceId source() const { return source_; }
  SourceId hosted_source() const override { return source_; }
  const std::vector<std::unique_ptr<sfu::Producer>>& producers() const { return producers_; }

 private:
  struct SsrcRoute {
    uint32_t ssrc = 0;
    uint32_t track = 0;
    int layer = 0;
    bool rtx = false;
  };
  const SsrcRoute* route(const rtp::RtpPacket& p);
  std::optional<SsrcRoute> learn_route(const rtp::RtpPacket& p);
  void on_rtp(PacketRef& packet, size_t len, Timestamp now);
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);

  void note_audio_level(const rtp::RtpPacket& p, const sfu::Producer& producer);
  void report_audio_level(Timestamp now);
  void check_stall(Timestamp now);

  SourceId source_;
  uint32_t rtcp_ssrc_;
  // RFC 6464 audio levels, for the live's active speaker: the loudest (lowest -dBov) level
  // of each kAudioLevelPeriod goes to the control plane, not every packet's.
  static constexpr Duration kAudioLevelPeriod = std::chrono::milliseconds(100);
  int loudest_level_ = -1;  // -1: no level since the last report
  Timestamp next_level_report_{};
  uint8_t transport_cc_id_ = 0;  // 0: the host did not negotiate transport-wide CC
  std::vector<std::unique_ptr<sfu::Producer>> producers_;
  // Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01): the
  // host's send-side bandwidth estimate grows only on this feedback.
  sfu::TransportFeedbackGenerator transport_feedback_;
  std::vector<SsrcRoute> routes_;  // few entries: linear search beats hashing here
  // Upstream silence, for the control plane: a relay whose origin died goes silent at once,
  // while its host's claim lapses only after its TTL (docs/ARCHITECTURE.md, lives across origins).
  static constexpr Duration kStallAfter = std::chrono::seconds(1);
  Timestamp last_rtp_{};
  bool stall_reported_ = false;
};

struct UpstreamRef {
  int worker = 0;          // the publisher's worker
  uint64_t session_id = 0; // the publisher session there
  bool operator==(const UpstreamRef&) const = default;
};

}  // namespace strata::worker
