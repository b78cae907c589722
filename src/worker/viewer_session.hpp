// A viewer (WHEP) session: one transport and its slots. A slot is a video m-line of the
// viewer's offer (and the audio m-line paired with it) that shows one host at a time; the
// control plane tells it which (show()). Each slot's consumers keep their SSRC, sequence
// numbers and timestamps across hosts, so a host entering a slot looks to the viewer like a
// layer switch: it starts at a keyframe, with no renegotiation.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "sfu/consumer.hpp"
#include "sfu/downlink_controller.hpp"
#include "sfu/replay_queue.hpp"
#include "worker/sessions.hpp"

namespace strata::worker {

// What a slot shows: one host's media source, the host's tracks it takes, and where
// keyframe requests for them go.
struct SlotSource {
  static constexpr uint32_t kNoTrack = UINT32_MAX;
  SourceId source = 0;  // 0: the slot is empty
  UpstreamRef upstream;
  uint32_t video_track = kNoTrack, audio_track = kNoTrack;  // the host's track indexes
  uint32_t video_layers = 1;                                // the host's simulcast encodings
  bool operator==(const SlotSource&) const = default;
};

// A slot's m-lines as negotiated: what we send on each (either may be absent).
struct SlotTracks {
  std::optional<sfu::EgressTrackInfo> video, audio;
};

class ViewerSession final : public TransportSession {
 public:
  static bool is(Kind k) { return k == Kind::kViewer; }
  Kind kind() const override { return Kind::kViewer; }
  // `layer_stats` (optional) receives the automatic layer choice for the control plane.
  ViewerSession(Worker& worker, uint64_t id, transport::TransportConfig config, std::vector<SlotTracks> slots,
                SessionEvents& events, std::shared_ptr<sfu::ViewerLayerStats> layer_stats = nullptr);

  // Control plane: slot `slot` shows `source` from now on (SlotSource{} empties it). The
  // session subscribes to the new source on this worker and unsubscribes from the old one
  // when no other slot shows it. Showing the same source again (the host republished on a
  // new session with the same id) keeps continuity and asks for a keyframe.
  void show(size_t slot, const SlotSource& source);
  // The speaker's slot (or every slot of a viewer pinned to one host) gets the larger share
  // of the downlink estimate.
  void set_favored(size_t slot, bool favored);
  // The highest simulcast layer a slot (nullopt: every slot) may get (-1: the top one).
  void set_max_layer(std::optional<size_t> slot, int layer);

  void on_datagram(PacketRef& packet, const SocketAddress& from, const SocketAddress& local, Timestamp now) override;
  void on_tick(Timestamp now) override;
  void on_media(const FanoutItem& item, Timestamp now) override;
  void on_close(Timestamp now) override;

  size_t slot_count() const { return slots_.size(); }
  const SlotSource& slot_source(size_t slot) const { return slots_[slot].source; }
  sfu::Consumer* video(size_t slot) { return slots_[slot].video.get(); }
  sfu::Consumer* audio(size_t slot) { return slots_[slot].audio.get(); }

 private:
  struct Slot {
    std::unique_ptr<sfu::Consumer> video, audio;
    SlotSource source;
    bool favored = false;
    // The video starts from this worker's keyframe cache when it can (one try per host
    // shown; after that, keyframe requests to the host as before).
    sfu::ReplayQueue replay;
    bool replay_tried = false;
  };
  struct Found {
    Slot* slot = nullptr;
    sfu::Consumer* consumer = nullptr;
  };
  Found consumer_for_ssrc(uint32_t ssrc);
  bool shows(SourceId source) const;
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);
  void request_upstream_keyframe(const Slot& slot, uint32_t track, int layer = -1);
  void request_keyframes(Timestamp now);
  size_t send_media(sfu::Consumer& c, const PacketRef& packet, const sfu::PacketFacts& facts, Timestamp now,
                    bool replayed = false);
  // Starts the slot's video from the cached group of its host's current keyframe: false
  // when there is none (or it is stale, or was tried already for this host).
  bool start_replay(Slot& slot, Timestamp now);
  void drain_replay(Slot& slot, Timestamp now);
  // At connection, or when a connected slot gets a host: the cache, else the host.
  void start_video(Slot& slot, Timestamp now);
  void handle_report_block(const rtp::ReportBlock& block, Timestamp now);
  void on_viewer_keyframe_request(Slot& slot, sfu::Consumer& c);
  void resend(sfu::Consumer& c, uint16_t seq, Timestamp now);
  void run_downlink(Timestamp now);
  void send_probes(sfu::Consumer& video, size_t bytes, Timestamp now);

  std::vector<Slot> slots_;
  std::vector<sfu::DownlinkSlot> downlink_slots_;  // reused every tick
  bool sent_bye_ = false;
  // The downlink estimate picks each slot's layer (created when any slot has video).
  std::unique_ptr<sfu::DownlinkController> downlink_;
  uint64_t counted_switches_ = 0, counted_probes_ = 0;
  static constexpr Duration kKeyframeRetry = std::chrono::milliseconds(500);
  Timestamp next_keyframe_retry_{};
};

}  // namespace strata::worker
