// Consumer: one egress track toward one viewer. Rewrites SSRC, payload type, sequence
// numbers and timestamps so the viewer sees one continuous stream (across host restarts),
// starts video at a keyframe, keeps what it sent for NACKs (RTX, RFC 4588, when
// negotiated) and reports with RTCP SR (RFC 3550 §6.4.1). Pure: packets in, bytes out.
#pragma once
#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/packet_buffer.hpp"
#include "common/time.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtp_packet.hpp"
#include "sfu/retransmission_buffer.hpp"
#include "sfu/send_stats.hpp"
#include "sfu/seq_rewriter.hpp"
#include "sfu/track.hpp"

namespace strata::sfu {

class Consumer {
 public:
  static constexpr Duration kReportInterval = std::chrono::seconds(1);
  static constexpr size_t kRetransmissionSlots = 1024;  // ~1 s of 8 Mbit/s video

  explicit Consumer(EgressTrackInfo info);

  const EgressTrackInfo& info() const { return info_; }
  bool waiting_for_keyframe() const { return waiting_for_keyframe_; }

  // Writes the viewer's RTP packet for `source` into out[0..capacity). Returns its length,
  // or 0 when the packet is not forwarded (waiting for a keyframe, duplicate, padding).
  size_t write_media(const PacketRef& source, Timestamp now, uint8_t* out, size_t capacity);

  // Simulcast source (source_layers > 1): every packet of every layer comes here, and the
  // consumer forwards one layer: the highest flowing one not above max_layer. It switches
  // only at a keyframe of the new layer and keeps forwarding the old one until then.
  bool selects_layers() const { return info_.source_layers > 1; }
  size_t write_layer_media(const PacketRef& source, uint8_t layer, Timestamp now, uint8_t* out, size_t capacity);
  void set_max_layer(int layer) { info_.max_layer = layer; }
  int current_layer() const { return current_layer_; }
  // The layer it waits to switch to (needs a keyframe of it), or -1.
  int pending_layer(Timestamp now) const;
  uint64_t layer_switches() const { return layer_switches_; }
  static constexpr Duration kLayerSilence = std::chrono::milliseconds(500);

  // Writes the retransmission of output sequence `seq` (RTX when negotiated). 0 if gone.
  size_t write_retransmission(uint16_t seq, Timestamp now, uint8_t* out, size_t capacity);

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
  struct Sent {
    PacketRef source;
    uint32_t out_ts = 0;
  };
  size_t write_rewritten(const rtp::RtpPacket& src, uint16_t seq, uint32_t ts, uint8_t* out, size_t capacity) const;

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
  std::optional<Duration> rtt_;
};

}  // namespace strata::sfu
