// Per-SSRC receive accounting the bench viewer does on every packet without decrypting it
// (SRTP leaves the RTP header and extensions in the clear, RFC 3711 §3.1): extended
// sequence numbers with wrap-around, loss that counts a gap later filled by a
// retransmission as received, NACK candidates, and RFC 3550 §6.4.1/A.8 interarrival jitter.
// Fixed-size state, no allocation per packet.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"

namespace strata::loadtest {

// The fields of an RTP header the bench needs (RFC 3550 §5.1, RFC 8285 §4.2 one-byte
// extensions). Works on SRTP packets: only the header is read.
struct RtpHeaderInfo {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  size_t header_size = 0;
  std::optional<uint16_t> twcc_seq;  // when twcc_id != 0 and the element is present
};
std::optional<RtpHeaderInfo> parse_rtp_header(ByteSpan packet, uint8_t twcc_id);

class SequenceTracker {
 public:
  static constexpr int64_t kWindow = 2048;  // sequence numbers remembered for fill-in
  static constexpr size_t kMaxPendingNacks = 64;

  enum class Result { kNew, kFilled, kDuplicate, kTooOld };
  Result on_packet(uint16_t seq);
  // A retransmission (RTX OSN, RFC 4588 §4) of `seq`: the same as a late arrival.
  Result on_repaired(uint16_t seq) { return started_ ? on_packet(seq) : Result::kTooOld; }

  bool started() const { return started_; }
  int64_t highest() const { return highest_; }  // extended
  uint64_t expected() const { return started_ ? uint64_t(highest_ - base_ + 1) : 0; }
  uint64_t received() const { return received_; }  // unique sequence numbers
  uint64_t lost() const { return expected() > received_ ? expected() - received_ : 0; }
  uint64_t duplicates() const { return duplicates_; }
  double loss_fraction() const { return expected() ? double(lost()) / double(expected()) : 0.0; }

  // Sequence numbers worth a NACK now (RFC 4585 §6.2.1): missing, not asked for within
  // `retry`, asked fewer than `max_tries` times. Appends to `out`.
  void collect_nacks(Timestamp now, Duration retry, int max_tries, std::vector<uint16_t>& out);
  size_t pending_nacks() const { return pending_count_; }

  // RFC 3550 §6.4.1 fraction lost since the previous call (0..255) and cumulative lost.
  uint8_t take_fraction_lost();

 private:
  struct Pending {
    int64_t seq = 0;
    int tries = 0;
    Timestamp next{};
  };
  bool test(int64_t ext) const { return bits_[size_t(ext & (kWindow - 1))]; }
  void set(int64_t ext, bool v) { bits_[size_t(ext & (kWindow - 1))] = v; }
  void add_pending(int64_t ext);
  void remove_pending(int64_t ext);

  bool started_ = false;
  int64_t base_ = 0, highest_ = 0;
  uint64_t received_ = 0, duplicates_ = 0;
  uint64_t prior_expected_ = 0, prior_received_ = 0;
  std::array<bool, kWindow> bits_{};
  std::array<Pending, kMaxPendingNacks> pending_{};
  size_t pending_count_ = 0;
};

// RFC 3550 A.8 interarrival jitter in RTP timestamp units.
class JitterEstimator {
 public:
  explicit JitterEstimator(uint32_t clock_rate = 90000) : clock_rate_(clock_rate) {}
  void set_clock_rate(uint32_t r) { clock_rate_ = r; }
  void on_packet(uint32_t rtp_timestamp, Timestamp arrival);
  uint32_t jitter_units() const { return uint32_t(jitter_); }
  double jitter_ms() const { return clock_rate_ ? jitter_ * 1000.0 / clock_rate_ : 0.0; }

 private:
  uint32_t clock_rate_;
  bool have_last_ = false;
  int64_t last_transit_ = 0;
  double jitter_ = 0;
};

// Nearest-rank percentile (p in 0..100) of unsorted values; 0 for an empty set.
double percentile(std::vector<double> values, double p);

}  // namespace strata::loadtest
