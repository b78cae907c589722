// Consumer: one egress track toward one viewer. Rewrites SSRC, payload type, sequence
// numbers and timestamps so the viewer sees one continuous stream (across host restarts),
// starts video at a keyframe, keeps what it sent for NACKs (RTX, RFC 4588, when
// negotiated) and reports with RTCP SR (RFC 3550 §6.4.1). Pure: packets in, bytes out.
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "common/bytes.hpp"
#include "common/packet_buffer.hpp"
#include "common/time.hpp"
#include "codecs/picture_id_rewriter.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtp_packet.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "sfu/layer_rate_meter.hpp"
#include "sfu/send_stats.hpp"
#include "sfu/seq_rewriter.hpp"
#include "sfu/track.hpp"
#include "sfu/transport_sequencer.hpp"

namespace strata::sfu {

class Consumer {
 public:
  static constexpr Duration kReportInterval = std::chrono::seconds(1);
  // Packets kept for NACKs: at least 1 s of the track at its rate (libwebrtc's
  // RtpPacketHistory keeps max(1 s, 3 RTT)), up to 4096 (1 s of ~30 Mbit/s video);
  // tracks without NACK keep nothing. Found again up to 2 s after sending.
  static constexpr RetransmissionGrowth kRetransmissionGrowth{
      .initial = 64, .max = 4096, .min_coverage = std::chrono::seconds(1)};

  explicit Consumer(EgressTrackInfo info);

  const EgressTrackInfo& info() const { return info_; }
  bool waiting_for_keyframe() const { return waiting_for_keyframe_; }

  // Writes the viewer's RTP packet for `source` (its facts computed by the producer) into
  // out[0..capacity). Returns its length, or 0 when the packet is not forwarded (another
  // layer, waiting for a keyframe, duplicate, padding). `replayed`: the packet comes from a
  // keyframe cache's replay, sent faster than real time: its frame gets a timestamp from
  // the wall clock (SeqRewriter retime).
  size_t write(const PacketRef& source, const PacketFacts& facts, Timestamp now, uint8_t* out, size_t capacity,
               bool replayed = false);
  // The same, computing the facts here (tests, and sources without a producer).
  size_t write_media(const PacketRef& source, Timestamp now, uint8_t* out, size_t capacity);

  // The slot this consumer feeds now shows another host (or the same host republished):
  // its packets start at a keyframe and continue our sequence numbers and timestamps, as a
  // layer switch does. `source_layers`: the new source's simulcast encodings.
  void set_source(uint32_t source_track, uint32_t source_layers);

  // Simulcast source (source_layers > 1): every packet of every layer comes here, and the
  // consumer forwards one layer: the highest flowing one not above both the viewer's
  // max_layer and the bandwidth target. It switches only at a keyframe of the new layer and
  // keeps forwarding the old one until then.
  bool selects_layers() const { return info_.source_layers > 1; }
  size_t write_layer_media(const PacketRef& source, uint8_t layer, Timestamp now, uint8_t* out, size_t capacity);
  void set_max_layer(int layer) { info_.max_layer = layer; }
  int max_layer() const { return info_.max_layer; }
  // The bandwidth selector's choice: spatial layer (-1: no limit) and highest temporal
  // layer (-1: all). Temporal changes apply at the next frame start.
  void set_target(int spatial, int temporal) {
    target_layer_ = spatial;
    temporal_target_ = temporal;
  }
  int temporal_layer() const { return temporal_active_; }
  // The layer a fresh start from a keyframe cache replays: the lowest, which is also the
  // bandwidth selector's first choice on a young rate meter (0 for single-layer sources).
  int start_layer() const { return 0; }
  int current_layer() const { return current_layer_; }
  // Bit rates of the source's layers as this consumer sees them (simulcast consumers).
  LayerRateMeter& layer_rates() { return rates_; }
  // The layer it waits to switch to (needs a keyframe of it), or -1.
  int pending_layer(Timestamp now) const;
  uint64_t layer_switches() const { return layer_switches_; }
  static constexpr Duration kLayerSilence = std::chrono::milliseconds(500);

  // Writes the retransmission of output sequence `seq` (RTX when negotiated). 0 if gone.
  size_t write_retransmission(uint16_t seq, Timestamp now, uint8_t* out, size_t capacity);

  // Transport-wide CC (the session's counter): every packet written carries the
  // transport-cc header extension (info().transport_cc_ext) when one is attached.
  void set_transport_sequencer(TransportSequencer* sequencer) { sequencer_ = sequencer; }
  // A bandwidth probe packet: an RTX copy of a recently sent packet (the viewer drops it
  // as a duplicate, its transport-cc feedback measures the path). Needs RTX; 0 otherwise.
  size_t write_probe(int probe_cluster, Timestamp now, uint8_t* out, size_t capacity);
  uint64_t probe_packets() const { return probe_packets_; }
  uint64_t temporal_drops() const { return temporal_drops_; }

  // The viewer asked for a keyframe (PLI/FIR); counted, the caller forwards upstream.
  void on_keyframe_request() { ++keyframe_requests_; }
  void on_report_block(const rtp::ReportBlock& block, uint64_t ntp_now);

  // SR + SDES when due; appended to `out`. Returns true if anything was appended.
  bool collect_rtcp(Timestamp now, uint64_t ntp_now, Bytes& out);
  void append_bye(Bytes& out) const;

  uint64_t packets_sent() const { return send_stats_.packets(); }
  uint64_t retransmissions() const { return retransmissions_; }
  uint64_t keyframe_requests() const { return keyframe_requests_; }
  std::optional<Duration> rtt() const { return rtt_; }

 private:
  // One per packet kept for NACKs, so kept to 16 bytes (issue 14: memory per viewer).
  struct Sent {
    PacketRef source;
    uint32_t out_ts = 0;
    // The codec picture ids as sent (VP8/VP9), re-applied to retransmissions.
    uint16_t picture_id = 0;
    uint8_t tl0picidx = 0;
    bool has_picture_id : 1 = false;
    bool has_tl0picidx : 1 = false;
  };
  static_assert(sizeof(Sent) <= 16);
  struct Header {
    uint8_t payload_type;
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts;
    bool marker;
  };
  // The host's header fields a consumer forwards, and where its payload is.
  struct SourceHeader {
    uint32_t ssrc = 0, ts = 0;
    uint16_t seq = 0;
    bool marker = false;
    ByteSpan payload;
  };
  static std::optional<SourceHeader> source_header(const PacketRef& p, const PacketFacts& facts);
  size_t write_media_parsed(const PacketRef& source, const SourceHeader& src, const PacketFacts& facts,
                            Timestamp now, uint8_t* out, size_t capacity, bool replayed = false);
  // RTP header (+ transport-cc extension when negotiated) then `payload` at `prefix` bytes
  // in. Returns the header length, or 0 if it does not fit.
  size_t write_packet(const Header& h, ByteSpan payload, size_t prefix, Timestamp now, int probe_cluster,
                      uint8_t* out, size_t capacity);
  size_t header_size() const;
  size_t write_layer(const PacketRef& source, const PacketFacts& facts, Timestamp now, uint8_t* out, size_t capacity,
                     bool replayed);
  size_t write_rtx(const Sent& s, uint16_t seq, Timestamp now, int probe_cluster, uint8_t* out, size_t capacity);
  bool drop_filtered_temporal(const SourceHeader& src, const PacketFacts& facts);
  void record_picture_ids(Sent& s, const uint8_t* payload, size_t len) const;
  void restore_picture_ids(const Sent& s, uint8_t* payload, size_t len) const;

  EgressTrackInfo info_;
  SeqRewriter rewriter_;
  RetransmissionBuffer<Sent> sent_;
  SendStats send_stats_;
  uint32_t last_source_ssrc_ = 0;
  bool waiting_for_keyframe_;
  uint16_t rtx_seq_;
  Timestamp next_report_{};
  uint64_t retransmissions_ = 0, keyframe_requests_ = 0, layer_switches_ = 0;
  int desired_layer(Timestamp now) const;
  int current_layer_ = -1;
  std::array<Timestamp, 4> layer_seen_{};  // last packet per layer (at most 4 encodings)
  Timestamp source_seen_{};                // first packet of the current source
  std::optional<Duration> rtt_;
  int target_layer_ = -1;
  int temporal_target_ = -1, temporal_active_ = -1;
  LayerRateMeter rates_;
  std::unique_ptr<codecs::PictureIdRewriter> pictures_;  // video only
  TransportSequencer* sequencer_ = nullptr;
  uint64_t probe_packets_ = 0, temporal_drops_ = 0;
  uint16_t probe_cursor_ = 0;
};

}  // namespace strata::sfu
