// Producer: one ingest track of a host (mediasoup's model). Keeps receive statistics per
// encoding, asks the host for lost packets (generic NACK, RFC 4585 §6.2.1) and for
// keyframes (PLI, RFC 4585 §6.3.1) with coalescing, and computes each packet's facts
// (PacketFacts) once for every consumer. Pure: RTP in, RTCP bytes out, time passed in.
#pragma once
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtp_packet.hpp"
#include "sfu/keyframe_request_coalescer.hpp"
#include "sfu/nack_generator.hpp"
#include "sfu/receive_stats.hpp"
#include "sfu/track.hpp"

namespace strata::sfu {

class Producer {
 public:
  static constexpr Duration kReportInterval = std::chrono::seconds(1);

  // `nack`: how gaps are repaired (an edge's relay ingest uses relay_nack_config()).
  Producer(IngestTrackInfo info, uint32_t rtcp_sender_ssrc, NackConfig nack = {});
  // The path's round-trip time: NACK retries wait about one RTT (RFC 4585 §3.2).
  void set_rtt(Duration rtt) {
    for (auto& l : layers_) l.nacks.set_rtt(rtt);
  }

  const IngestTrackInfo& info() const { return info_; }
  size_t layer_count() const { return layers_.size(); }
  // A layer that sent nothing for this long is no longer flowing.
  static constexpr Duration kLayerSilence = std::chrono::milliseconds(500);

  struct Verdict {
    // Computed once here and carried with the packet to every consumer.
    PacketFacts facts;
    // A retransmission of a packet that was never missing (browsers send RTX copies of
    // old packets as bandwidth-probe padding): nobody downstream may see it, or a viewer
    // starting at an old keyframe would skip the packets in between.
    bool duplicate = false;
  };
  // A packet of encoding `layer` (already restored from RTX if `recovered`).
  Verdict on_rtp(const rtp::RtpPacket& packet, int layer, bool recovered, Timestamp now);
  void on_sender_report(int layer, const rtp::SenderReport& sr, Timestamp now);

  // A viewer (or the server itself) wants a keyframe. Coalesced: at most one PLI per
  // interval reaches the host however many ask.
  // `layer` < 0 or out of range: the top layer that is flowing (the lowest when none is).
  // Coalesced per layer.
  void request_keyframe(Timestamp now, int layer = -1);

  // RTCP due now toward the host: RR (every second), NACKs, PLI. Appended to `out`.
  void collect_rtcp(Timestamp now, Bytes& out);

  uint64_t packets() const { return packets_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t keyframes() const { return keyframes_; }
  uint64_t keyframe_requests_sent() const { return pli_sent_; }
  uint64_t nacks_sent() const { return nack_sent_; }

 private:
  struct Layer {
    uint32_t ssrc = 0;
    bool seen = false;
    Timestamp last_packet{};
    KeyframeRequestCoalescer keyframe_requests;
    bool pli_due = false;
    ReceiveStats stats;
    NackGenerator nacks;
    Layer(uint32_t clock_rate, const NackConfig& nack) : stats(clock_rate), nacks(nack) {}
  };

  bool flowing(const Layer& l, Timestamp now) const { return l.seen && now - l.last_packet < kLayerSilence; }
  int top_flowing_layer(Timestamp now) const;

  IngestTrackInfo info_;
  uint32_t sender_ssrc_;
  std::vector<Layer> layers_;
  Timestamp next_report_{};
  uint64_t packets_ = 0, bytes_ = 0, keyframes_ = 0, pli_sent_ = 0, nack_sent_ = 0;
};

}  // namespace strata::sfu
