// The origin's end of a server-to-server relay (docs/ARCHITECTURE.md, "Cluster"): one edge's PeerConnection
// that receives every track and every simulcast layer of a stream unchanged (original
// SSRCs, sequence numbers, header extensions), so the edge can run its own producers and
// choose layers per viewer. Loss on this hop is repaired here (NACK → retransmission).
#pragma once
#include <vector>

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

 private:
  static constexpr size_t kRetransmissionSlots = 2048;
  struct SentStream {
    uint32_t ssrc = 0;
    uint32_t track = 0;
    uint8_t layer = 0;  // simulcast encoding: a PLI for this SSRC asks for this layer
    sfu::RetransmissionBuffer<PacketRef> sent{kRetransmissionSlots, std::chrono::seconds(3)};
  };
  SentStream& stream_for(uint32_t ssrc, uint32_t track, uint8_t layer);
  SentStream* find_stream(uint32_t ssrc);
  bool send_packet(const PacketRef& packet);
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);
  void request_upstream_keyframe(uint32_t track, int layer);

  SourceId source_;
  UpstreamRef upstream_;
  std::vector<std::unique_ptr<SentStream>> streams_;  // one per SSRC seen (few)
  uint64_t packets_sent_ = 0;
};

}  // namespace strata::worker
