// Per-viewer downlink bandwidth estimate (send side), sans-IO. The session reports every
// packet it sends with its transport-wide sequence number, and feeds back what the
// viewer answers: transport-cc feedback (delay-based + loss-based control), REMB, or
// receiver reports (loss + RTT). After libwebrtc's goog_cc, simplified:
//   delay-based: DelayDetector (trendline) -> AimdRateControl, fed the acked bitrate;
//   loss-based:  > 10 % loss cuts the target by loss/2, < 2 % lets it grow 8 %/s;
//   probing:     tagged packets sent at a higher rate; if they got through without
//                overuse, the estimate jumps to what was received. A probe the link
//                could not carry measured the link instead: an overuse during it cuts
//                from the rate its packets arrived at, and that rate is kept as the
//                link's ceiling for a while (link_ceiling()), so that nobody probes
//                beyond a link just found full.
// target = min(delay-based or REMB, loss-based), clamped to [min, max].
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "bwe/acked_bitrate.hpp"
#include "bwe/aimd_rate_control.hpp"
#include "bwe/bitrate.hpp"
#include "bwe/delay_detector.hpp"
#include "bwe/send_history.hpp"
#include "common/time.hpp"
#include "rtp/rtcp_transport_cc.hpp"

namespace strata::bwe {

struct EstimatorConfig {
  Bitrate initial = 1'000'000;
  Bitrate min = 50'000;
  Bitrate max = 30'000'000;
  size_t history_size = 4096;  // sent packets remembered (~1.3 s at 30 Mbit/s)
  size_t history_max = 0;      // above history_size: the history grows (SendHistory)
  Duration probe_timeout = std::chrono::milliseconds(1000);  // undecided after this = failed
  Duration probe_min_span = std::chrono::milliseconds(150);  // probe packets must span this
};

struct EstimatorState {
  Bitrate target = 0;
  Bitrate acked = 0;    // 0 = not measured yet
  double loss = 0;      // last loss fraction 0..1 (feedback or RR)
  Duration rtt{};
  const char* signal = "normal";  // delay detector: normal / overuse / underuse
};

struct EstimatorCounters {
  uint64_t feedback = 0;
  uint64_t unknown_seq = 0;  // feedback about packets never sent or already forgotten
  uint64_t duplicate = 0;    // reported received twice
  uint64_t reordered = 0;    // older than packets already used for delay
};

class DownlinkEstimator {
 public:
  explicit DownlinkEstimator(EstimatorConfig cfg = {});

  void on_packet_sent(uint16_t transport_seq, size_t bytes, Timestamp now, int probe_cluster = -1);
  void on_transport_feedback(const rtp::TransportFeedback& fb, Timestamp now);
  void on_remb(Bitrate bitrate, Timestamp now);
  void on_receiver_report(uint8_t fraction_lost /*RFC 3550 8-bit*/, std::optional<Duration> rtt, Timestamp now);

  // `rate` is the total send rate during the probe (media + tagged probe packets).
  void on_probe_started(int cluster_id, Bitrate rate, Timestamp now);
  // nullopt until decided; true = the link carried the probe without overuse.
  std::optional<bool> probe_result(int cluster_id) const;

  Bitrate target() const;
  // The target rests on a measurement (an overuse, a probe, REMB, a loss cut), not on the
  // configured initial guess.
  bool measured() const;
  EstimatorState state() const;
  // What a recent probe that saturated the link measured it to carry; nullopt when no
  // probe failed that way within kCeilingHold (or one got through above it since).
  std::optional<Bitrate> link_ceiling() const;
  static constexpr Duration kCeilingHold = std::chrono::seconds(20);
  const EstimatorCounters& counters() const { return counters_; }

 private:
  struct Probe {
    int id = -1;
    Bitrate rate = 0;
    Timestamp start{};
    int sent = 0, received = 0;               // tagged packets
    int64_t first_probe_send_us = 0, last_probe_send_us = 0;
    int64_t acked_probe_first_us = 0, acked_probe_last_us = 0;
    // every packet (media too) sent during the probe and acknowledged
    int64_t bytes = 0, packets = 0;
    int64_t send_lo = 0, send_hi = 0, recv_lo = 0, recv_hi = 0;
    std::optional<bool> result;
  };
  static constexpr size_t kProbeSlots = 8;

  void on_packet_acked(SentPacket& p, int64_t arrival_us, Timestamp now);
  void account_probe(const SentPacket& p, int64_t arrival_us);
  void decide_probes(Timestamp now);
  void finish_probe(Probe& pr, Timestamp now);
  void on_loss_sample(double loss, Timestamp now);
  static std::optional<Bitrate> delivered(const Probe& pr);
  std::optional<Bitrate> probe_delivery_rate() const;
  void note_saturated(Bitrate measured, Timestamp now);
  void observe(Timestamp now);
  bool twcc_active(Timestamp now) const;
  Probe* probe_slot(int id);
  const Probe* probe_slot(int id) const;

  EstimatorConfig cfg_;
  SendHistory history_;
  DelayDetector detector_;
  AckedBitrate acked_;
  AimdRateControl aimd_;
  std::array<Probe, kProbeSlots> probes_{};

  Bitrate loss_bound_;
  std::optional<Bitrate> remb_;
  double loss_ = 0;
  Duration rtt_ = std::chrono::milliseconds(100);
  std::optional<Timestamp> last_twcc_, last_loss_update_, last_loss_decrease_, last_overuse_;
  Timestamp last_now_{};
  std::optional<Bitrate> ceiling_;
  Timestamp ceiling_at_{};
  int64_t fb_lost_ = 0, fb_total_ = 0;
  int64_t newest_delay_send_us_ = INT64_MIN;
  std::optional<Timestamp> loss_window_start_;
  EstimatorCounters counters_;
};

}  // namespace strata::bwe
