// Automatic layer choice for one viewer session: glues the viewer's downlink estimate
// (bwe::DownlinkEstimator, fed by the viewer's transport-cc / REMB / receiver reports) to
// the layer selector (bwe::LayerSelector) and to the simulcast consumer it steers, and runs
// the bandwidth probes the selector asks for before an upgrade. Pure: RTCP and time in;
// the consumer's target, and "send this many probe bytes now", out.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>

#include "bwe/downlink_estimator.hpp"
#include "bwe/layer_selector.hpp"
#include "common/time.hpp"
#include "rtp/rtcp.hpp"
#include "sfu/consumer.hpp"
#include "sfu/transport_sequencer.hpp"
#include "sfu/viewer_layer_stats.hpp"

namespace strata::sfu {

class DownlinkController : private TransportSequencer::Listener {
 public:
  static constexpr Duration kUpdateInterval = std::chrono::milliseconds(100);
  static constexpr Duration kProbeDuration = std::chrono::milliseconds(400);
  static constexpr Duration kProbeResultTimeout = std::chrono::milliseconds(1500);
  // What audio takes from the estimate before video layers are chosen.
  static constexpr bwe::Bitrate kAudioAllowance = 40'000;  // Opus at browser defaults + headers
  // Packets remembered for feedback: ~1 s at 1000 packets/s (feedback comes every 50-100 ms).
  static constexpr size_t kSendHistory = 1024;

  explicit DownlinkController(std::shared_ptr<ViewerLayerStats> stats);
  DownlinkController(const DownlinkController&) = delete;
  DownlinkController& operator=(const DownlinkController&) = delete;

  TransportSequencer& sequencer() { return sequencer_; }

  // RTCP from the viewer. True when the packet was bandwidth feedback (transport-cc, REMB).
  bool on_rtcp(const rtp::RtcpPacketView& v, Timestamp now);
  void on_report_block(const rtp::ReportBlock& block, std::optional<Duration> rtt, Timestamp now);
  // The viewer's explicit maximum layer changed (-1: none).
  void on_max_layer(int layer) { stats_->requested.store(layer, std::memory_order_relaxed); }

  // Once per worker tick: re-selects the layer of `video` (a simulcast consumer) every
  // kUpdateInterval and paces probes. Returns how many probe bytes to send now.
  size_t on_tick(Consumer& video, bool has_audio, Timestamp now);
  int probe_cluster() const { return probe_ ? probe_->cluster : -1; }

  bwe::Bitrate estimate() const { return estimator_.target(); }
  uint64_t probes() const { return probes_; }

 private:
  struct Probe {
    int cluster = 0;
    bwe::Bitrate rate = 0;
    Timestamp started{}, ends{};
    double credit_bytes = 0;
    Timestamp last_paced{};
  };
  void on_transport_packet_sent(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) override;
  void select(Consumer& video, bool has_audio, Timestamp now);
  void start_probe(bwe::Bitrate rate, Timestamp now);
  size_t pace_probe(bwe::Bitrate media_rate, Timestamp now);
  void finish_probe(Timestamp now);
  static bwe::LayerRates layer_rates(Consumer& video, Timestamp now);

  std::shared_ptr<ViewerLayerStats> stats_;
  bwe::DownlinkEstimator estimator_;
  bwe::LayerSelector selector_;
  TransportSequencer sequencer_;
  Timestamp next_update_{};
  std::optional<Probe> probe_;
  int next_cluster_ = 1;
  uint64_t probes_ = 0;
  bwe::Bitrate media_rate_ = 0;
  bool have_feedback_ = false;
};

}  // namespace strata::sfu
