#include "sctp/data_sender.hpp"

#include <algorithm>
#include <limits>

#include "sctp/tsn.hpp"

namespace strata::sctp {
namespace {

constexpr size_t kDataChunkHeader = kChunkHeaderSize + 12;
constexpr size_t chunk_size(size_t user_bytes) { return pad4(kDataChunkHeader + user_bytes); }

}  // namespace

DataSender::DataSender(uint32_t initial_tsn, uint32_t peer_rwnd, const SenderConfig& config, const RtoConfig& rto)
    : config_(config),
      rto_(rto),
      cum_ack_(uint64_t(1) << 32 | uint32_t(initial_tsn - 1)),
      next_tsn_(cum_ack_ + 1),
      // RFC 9260 §7.2.1: initial cwnd min(4 MTU, max(2 MTU, 4380)); ssthresh the peer's window.
      cwnd_(std::min(4 * config.mtu, std::max<size_t>(2 * config.mtu, 4380))),
      ssthresh_(peer_rwnd),
      peer_rwnd_(peer_rwnd) {}

SendResult DataSender::send(uint16_t stream, uint32_t ppid, ByteSpan data, const SendOptions& options, Timestamp now) {
  if (data.empty()) return SendResult::kEmpty;
  if (buffered_ + data.size() > config_.buffer_limit) {
    ++counters_.refused_buffer_full;
    return SendResult::kBufferFull;
  }
  const size_t max_fragment = config_.mtu - kCommonHeaderSize - kDataChunkHeader;
  auto message = std::make_shared<const Bytes>(data.begin(), data.end());
  const uint16_t ssn = options.unordered ? 0 : next_ssn_[stream]++;
  const uint64_t id = next_message_id_++;
  const Timestamp expires = options.lifetime ? now + *options.lifetime : kNever;
  const uint32_t max_rtx = options.max_retransmits.value_or(std::numeric_limits<uint32_t>::max());
  for (size_t offset = 0; offset < data.size(); offset += max_fragment) {
    const size_t length = std::min(max_fragment, data.size() - offset);
    items_.push_back(Item{id, message, uint32_t(offset), uint32_t(length), stream, ssn, ppid, options.unordered,
                          offset == 0, offset + length == data.size(), expires, max_rtx});
  }
  next_tsn_ = cum_ack_ + 1 + items_.size();
  buffered_ += data.size();
  ++counters_.messages;
  return SendResult::kQueued;
}

DataSender::Item* DataSender::item(uint64_t tsn) {
  if (tsn <= cum_ack_ || tsn >= next_tsn_) return nullptr;
  return &items_[size_t(tsn - cum_ack_ - 1)];
}

bool DataSender::has_sendable() const {
  for (const Item& it : items_) {
    if (it.state == State::kRetransmit) return true;
    if (it.state == State::kQueued) return flight_ < cwnd_ && (peer_rwnd_ >= it.length || flight_ == 0);
  }
  return false;
}

void DataSender::send_item(Item& it, uint64_t tsn, Bytes& packet, Timestamp now) {
  DataChunk d;
  d.unordered = it.unordered;
  d.beginning = it.beginning;
  d.ending = it.ending;
  d.tsn = uint32_t(tsn);
  d.stream_id = it.stream_id;
  d.ssn = it.ssn;
  d.ppid = it.ppid;
  d.user_data = ByteSpan(it.message->data() + it.offset, it.length);
  append_data(packet, d);
  if (it.transmissions > 0) ++counters_.retransmissions;
  ++it.transmissions;
  ++counters_.chunks_sent;
  it.state = State::kInFlight;
  it.sent_at = now;
  it.misses = 0;
  flight_ += it.length;
  peer_rwnd_ = peer_rwnd_ > it.length ? peer_rwnd_ - it.length : 0;
  if (it.transmissions == 1 && !rtt_tsn_) {
    rtt_tsn_ = tsn;
    rtt_sent_ = now;
  }
  if (t3_ == kNever) t3_ = now + rto_.value();
}

size_t DataSender::fill(Bytes& packet, size_t room, Timestamp now) {
  abandon_expired(now);
  const size_t start = packet.size();
  auto used = [&] { return packet.size() - start; };
  // Retransmissions first (RFC 9260 §6.1 and §7.2.4): the first of each call whatever cwnd
  // says (a fast retransmit goes at once), then as cwnd allows.
  bool first = true;
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& it = items_[i];
    if (it.state != State::kRetransmit) continue;
    if (it.transmissions > it.max_retransmits) {
      abandon(i);
      continue;
    }
    if (used() + chunk_size(it.length) > room || (!first && flight_ >= cwnd_)) break;
    send_item(it, tsn_of(i), packet, now);
    first = false;
  }
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& it = items_[i];
    if (it.state != State::kQueued) continue;
    if (used() + chunk_size(it.length) > room || flight_ >= cwnd_) break;
    if (peer_rwnd_ < it.length && flight_ > 0) break;  // §6.1 A: one chunk may probe a zero window
    send_item(it, tsn_of(i), packet, now);
  }
  return used();
}

void DataSender::mark_acked(Item& it, uint64_t tsn, size_t* acked_bytes, Timestamp now) {
  if (it.state == State::kAcked) return;
  if (it.state == State::kInFlight) {
    flight_ -= it.length;
    *acked_bytes += it.length;
  }
  if (it.state != State::kAbandoned) buffered_ -= it.length;
  it.state = State::kAcked;
  if (rtt_tsn_ && *rtt_tsn_ == tsn) {
    if (it.transmissions == 1) rto_.on_rtt(now - rtt_sent_);
    rtt_tsn_.reset();
  }
}

void DataSender::pop_acked_front() {
  while (!items_.empty() && items_.front().state == State::kAcked) {
    items_.pop_front();
    ++cum_ack_;
  }
}

void DataSender::on_cumulative_ack(uint32_t cumulative_tsn_ack, Timestamp now) {
  on_sack(SackChunk{cumulative_tsn_ack, peer_rwnd_ + uint32_t(flight_), {}, {}}, now);
}

void DataSender::on_sack(const SackChunk& sack, Timestamp now) {
  const uint64_t cum = unwrap_tsn(sack.cumulative_tsn_ack, cum_ack_);
  if (cum < cum_ack_ || cum >= next_tsn_) return;  // §6.2.1 D i: an old SACK; or one for TSNs never sent
  const size_t flight_before = flight_;
  size_t acked = 0;
  const bool advanced = cum > cum_ack_;
  for (uint64_t t = cum_ack_ + 1; t <= cum; ++t) mark_acked(*item(t), t, &acked, now);
  uint64_t highest_gap_acked = 0;
  for (const GapBlock& g : sack.gaps) {
    if (g.start == 0 || g.end < g.start) continue;
    for (uint64_t t = cum + g.start; t <= cum + g.end && t < next_tsn_; ++t) {
      Item* it = item(t);
      if (it && it->state != State::kAcked) {
        mark_acked(*it, t, &acked, now);
        highest_gap_acked = std::max(highest_gap_acked, t);
      }
    }
  }
  pop_acked_front();
  // §7.2.4: chunks below the highest newly gap-acked TSN that are still missing get a miss
  // indication; at three they are fast-retransmitted.
  bool fast = false;
  for (uint64_t t = cum_ack_ + 1; t < highest_gap_acked; ++t) {
    Item* it = item(t);
    if (!it || it->state != State::kInFlight || it->fast_retransmitted) continue;
    if (++it->misses >= 3) {
      it->fast_retransmitted = true;
      it->state = State::kRetransmit;
      flight_ -= it->length;
      fast = true;
      ++counters_.fast_retransmits;
    }
  }
  if (fast && !fast_recovery_) enter_fast_recovery();
  if (fast_recovery_ && cum_ack_ >= fast_recovery_exit_) fast_recovery_ = false;
  // §7.2.1-7.2.2: grow cwnd only when it was in use (no room left for another full packet).
  if (advanced && !fast_recovery_ && flight_before + config_.mtu > cwnd_) {
    if (cwnd_ <= ssthresh_) {
      cwnd_ += std::min(acked, config_.mtu);
    } else if ((partial_bytes_acked_ += acked) >= cwnd_) {
      partial_bytes_acked_ -= cwnd_;
      cwnd_ += config_.mtu;
    }
  }
  peer_rwnd_ = sack.a_rwnd > flight_ ? uint32_t(sack.a_rwnd - flight_) : 0;
  if (advanced) {
    consecutive_expiries_ = 0;
    t3_ = flight_ > 0 ? now + rto_.value() : kNever;  // §6.3.2 R3
  } else if (flight_ == 0) {
    t3_ = kNever;
  }
  if (cum_ack_ < forward_tsn_sent_for_) forward_tsn_due_ = true;  // §3.5 C: the peer still lags
}

void DataSender::enter_fast_recovery() {
  ssthresh_ = std::max(cwnd_ / 2, 4 * config_.mtu);
  cwnd_ = ssthresh_;
  partial_bytes_acked_ = 0;
  fast_recovery_ = true;
  fast_recovery_exit_ = next_tsn_ - 1;
}

void DataSender::on_t3_expiry(Timestamp now) {
  if (now < t3_) return;
  ++counters_.t3_expiries;
  ++consecutive_expiries_;
  // §7.2.3 and §6.3.3: collapse cwnd, back off the RTO, resend everything outstanding.
  ssthresh_ = std::max(cwnd_ / 2, 4 * config_.mtu);
  cwnd_ = config_.mtu;
  partial_bytes_acked_ = 0;
  fast_recovery_ = false;
  rto_.back_off();
  rtt_tsn_.reset();
  for (Item& it : items_) {
    if (it.state != State::kInFlight) continue;
    it.state = State::kRetransmit;
    flight_ -= it.length;
  }
  t3_ = kNever;
  if (forward_tsn_sent_for_ > cum_ack_) forward_tsn_due_ = true;
}

void DataSender::abandon(size_t index) {
  const uint64_t id = items_[index].message_id;
  size_t first = index;
  while (first > 0 && items_[first - 1].message_id == id) --first;
  for (size_t i = first; i < items_.size() && items_[i].message_id == id; ++i) {
    Item& it = items_[i];
    if (it.state == State::kAcked || it.state == State::kAbandoned) continue;
    if (it.state == State::kInFlight) flight_ -= it.length;
    buffered_ -= it.length;
    it.state = State::kAbandoned;
  }
  ++counters_.abandoned_messages;
  forward_tsn_due_ = true;
}

void DataSender::abandon_expired(Timestamp now) {
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& it = items_[i];
    if (it.expires <= now && it.state != State::kAcked && it.state != State::kAbandoned) abandon(i);
  }
}

std::optional<ForwardTsnChunk> DataSender::take_forward_tsn() {
  if (!forward_tsn_due_) return std::nullopt;
  forward_tsn_due_ = false;
  // §3.5 C: the advanced peer ack point runs over acknowledged and abandoned chunks.
  uint64_t point = cum_ack_;
  std::unordered_map<uint16_t, uint16_t> skipped;  // ordered stream -> highest abandoned SSN
  for (const Item& it : items_) {
    if (it.state != State::kAcked && it.state != State::kAbandoned) break;
    ++point;
    if (it.state == State::kAbandoned && !it.unordered) skipped[it.stream_id] = it.ssn;
  }
  if (point <= cum_ack_) return std::nullopt;
  forward_tsn_sent_for_ = point;
  ForwardTsnChunk f{uint32_t(point), {}};
  for (auto [stream, ssn] : skipped) f.streams.push_back({stream, ssn});
  std::sort(f.streams.begin(), f.streams.end(), [](const auto& a, const auto& b) { return a.stream_id < b.stream_id; });
  return f;
}

void DataSender::reset_streams(const std::vector<uint16_t>& streams) {
  if (streams.empty()) {
    next_ssn_.clear();
    return;
  }
  for (uint16_t s : streams) next_ssn_.erase(s);
}

}  // namespace strata::sctp
