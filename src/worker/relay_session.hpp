// The origin's end of a server-to-server relay (docs/ARCHITECTURE.md, "Cluster"): one edge's PeerConnection
// that receives every track and every simulcast layer of a stream unchanged (original
// SSRCs, sequence numbers, header extensions), so the edge can run its own producers and
// choose layers per viewer. Loss on this hop is repaired here (NACK → retransmission).
//
// Instant start: once the transport is up, every layer the worker's keyframe cache holds
// goes out from its cached keyframe on, paced, before that layer's live packets. Sequence
// numbers are the host's, so to the edge this is the same as having joined a little
// earlier; its first keyframe request is answered by that replay instead of the host.
#pragma once
#include <vector>

#include "sfu/replay_queue.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "worker/sessions.hpp"

namespace strata::worker {

class RelaySendSession final : public TransportSession {
 public:
  static bool is(Kind k) { return k == Kind::kRelaySend; }
  Kind kind() const override { return Kind::kRelaySend; }
  RelaySendSession(Worker& worker, uint64_t id, SourceId source, UpstreamRef upstream,
                   transport::TransportConfig config, SessionEvents& events);
  void on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) override;
  void on_tick(Timestamp now) override;
  void on_media(const FanoutItem& item, Timestamp now) override;
  void on_close(Timestamp now) override;
  SourceId source() const { return source_; }
  uint64_t packets_sent() const { return packets_sent_; }
  // The edge's PLI/FIR that went on to the host (those a replay answered do not).
  uint64_t keyframe_requests_forwarded() const { return keyframe_requests_forwarded_; }

  // A keyframe request for a layer whose replay runs, or ended less than this ago, is
  // answered by it: the edge asked before the replayed keyframe reached it (its first
  // viewer asks as soon as it connects). Later ones are real loss and go to the host.
  static constexpr Duration kReplayAnswersKeyframeRequests = std::chrono::seconds(1);

 private:
  static constexpr size_t kRetransmissionSlots = 2048;
  struct SentStream {
    uint32_t ssrc = 0;
    uint32_t track = 0;
    uint8_t layer = 0;  // simulcast encoding: a PLI for this SSRC asks for this layer
    sfu::RetransmissionBuffer<PacketRef> sent{kRetransmissionSlots, std::chrono::seconds(3)};
    // The layer's cached group, then its live packets that arrive meanwhile: one queue per
    // SSRC keeps the edge's view of the stream in sequence-number order.
    sfu::ReplayQueue replay;
    Timestamp replay_answers_until{};  // kNever while the replay runs
  };
  SentStream& stream_for(uint32_t ssrc, uint32_t track, uint8_t layer);
  SentStream* find_stream(uint32_t ssrc);
  bool send_packet(const PacketRef& packet);
  // Keeps `packet` for NACKs and sends it; the bytes sent (0: not sent).
  size_t forward(SentStream& s, const PacketRef& packet, Timestamp now);
  // Once, when the transport is first up. True when `current` (a packet being delivered:
  // the cache took it first) ends one of the replayed groups, i.e. it is queued already.
  bool start_replays(Timestamp now, const PacketRef* current);
  void drain_replay(SentStream& s, Timestamp now);
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);
  void on_keyframe_request(SentStream& s, Timestamp now);
  void request_upstream_keyframe(uint32_t track, int layer);

  SourceId source_;
  UpstreamRef upstream_;
  std::vector<std::unique_ptr<SentStream>> streams_;  // one per SSRC seen (few)
  bool replays_started_ = false;
  uint64_t packets_sent_ = 0;
  uint64_t keyframe_requests_forwarded_ = 0;
};

}  // namespace strata::worker
