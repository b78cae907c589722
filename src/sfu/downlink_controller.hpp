// Automatic layer choice for one viewer session: glues the viewer's downlink estimate
// (bwe::DownlinkEstimator, fed by the viewer's transport-cc / REMB / receiver reports) to
// one layer selector (bwe::LayerSelector) per slot and the simulcast consumers they steer,
// and runs the bandwidth probes a selector asks for before an upgrade. The estimate is
// divided across the filled slots (room::split_downlink: a favored slot, the speaker's or
// a pinned one, gets twice a regular share), so the slots together never exceed it. Pure:
// RTCP and time in; each consumer's target, and "send this many probe bytes now", out.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "bwe/downlink_estimator.hpp"
#include "bwe/layer_selector.hpp"
#include "common/time.hpp"
#include "rtp/rtcp.hpp"
#include "sfu/consumer.hpp"
#include "sfu/transport_sequencer.hpp"
#include "sfu/viewer_layer_stats.hpp"

namespace strata::sfu {

// One slot of the viewer, as the controller sees it on a tick.
struct DownlinkSlot {
  Consumer* video = nullptr;  // the slot's video consumer (nullptr: none)
  bool filled = false;        // shows a host now (carries media, takes a share)
  bool favored = false;       // the speaker's slot, or the viewer pinned one host
  bool has_audio = false;     // its audio takes kAudioAllowance off the estimate
};

class DownlinkController : private TransportSequencer::Listener {
 public:
  static constexpr Duration kUpdateInterval = std::chrono::milliseconds(100);
  static constexpr Duration kProbeDuration = std::chrono::milliseconds(400);
  static constexpr Duration kProbeResultTimeout = std::chrono::milliseconds(1500);
  static constexpr int64_t kMaxProbeGain = 2;  // a probe tests at most 2x the estimate
  static constexpr double kCeilingProbeGain = 1.15;  // ... and 1.15x the link's ceiling
  // What audio takes from the estimate before video layers are chosen.
  static constexpr bwe::Bitrate kAudioAllowance = 40'000;  // Opus at browser defaults + headers
  // Packets remembered for feedback: from 128 (3 KB), growing while unreported packets
  // would be overwritten (SendHistory), up to 1 s at 4000 packets/s.
  static constexpr size_t kSendHistory = 128;
  static constexpr size_t kSendHistoryMax = 4096;

  explicit DownlinkController(std::shared_ptr<ViewerLayerStats> stats);
  DownlinkController(const DownlinkController&) = delete;
  DownlinkController& operator=(const DownlinkController&) = delete;

  TransportSequencer& sequencer() { return sequencer_; }

  // RTCP from the viewer. True when the packet was bandwidth feedback (transport-cc, REMB).
  bool on_rtcp(const rtp::RtcpPacketView& v, Timestamp now);
  void on_report_block(const rtp::ReportBlock& block, std::optional<Duration> rtt, Timestamp now);

  // Once per worker tick: re-selects the layer of every filled slot's simulcast consumer
  // every kUpdateInterval and paces probes. Returns how many probe bytes to send now, as
  // copies of probe_slot()'s packets.
  size_t on_tick(std::span<const DownlinkSlot> slots, Timestamp now);
  // One slot showing `video` (a simulcast consumer).
  size_t on_tick(Consumer& video, bool has_audio, Timestamp now);
  int probe_cluster() const { return probe_ ? probe_->cluster : -1; }
  size_t probe_slot() const { return probe_ ? probe_->slot : 0; }
  // The slot shows another host: its selector starts over.
  void reset_slot(size_t slot);

  bwe::Bitrate estimate() const { return estimator_.target(); }
  uint64_t probes() const { return probes_; }
  // Probes lowered to just above the link's measured ceiling.
  uint64_t probes_capped() const { return probes_capped_; }

 private:
  struct Probe {
    int cluster = 0;
    size_t slot = 0;  // whose selector asked for it
    bwe::Bitrate rate = 0;
    Timestamp started{}, ends{};
    double credit_bytes = 0;
    Timestamp last_paced{};
  };
  void on_transport_packet_sent(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) override;
  void select(std::span<const DownlinkSlot> slots, Timestamp now);
  void start_probe(size_t slot, bwe::Bitrate rate, Timestamp now);
  size_t pace_probe(bwe::Bitrate media_rate, Timestamp now);
  void finish_probe(Timestamp now);
  static bwe::LayerRates layer_rates(Consumer& video, Timestamp now);

  std::shared_ptr<ViewerLayerStats> stats_;
  bwe::DownlinkEstimator estimator_;
  std::vector<bwe::LayerSelector> selectors_;  // index = slot
  TransportSequencer sequencer_;
  Timestamp next_update_{};
  std::optional<Probe> probe_;
  int next_cluster_ = 1;
  uint64_t probes_ = 0, probes_capped_ = 0;
  bwe::Bitrate media_rate_ = 0;
  bool have_feedback_ = false;
};

}  // namespace strata::sfu
