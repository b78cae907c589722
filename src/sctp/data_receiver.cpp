#include "sctp/data_receiver.hpp"

#include "sctp/tsn.hpp"

namespace strata::sctp {
namespace {

constexpr size_t kMaxDuplicatesReported = 32;
constexpr size_t kMaxGapsReported = 64;
// Gap offsets are 16 bits (RFC 9260 §3.3.4): nothing further ahead of the cumulative ack is
// accepted, so every TSN held can be reported.
constexpr uint64_t kMaxAhead = 0xFFFF;

}  // namespace

DataReceiver::DataReceiver(uint32_t peer_initial_tsn, size_t window_bytes, size_t max_message_size)
    : window_(window_bytes), max_message_(max_message_size), cum_(uint64_t(1) << 32 | uint32_t(peer_initial_tsn - 1)) {}

uint32_t DataReceiver::a_rwnd() const { return buffered_ >= window_ ? 0 : uint32_t(window_ - buffered_); }

DataReceiver::Verdict DataReceiver::on_data(const DataChunk& d) {
  ++counters_.chunks;
  const uint64_t tsn = unwrap_tsn(d.tsn, cum_);
  if (tsn <= cum_ || above_cum_.count(tsn)) {
    ++counters_.duplicates;
    if (duplicates_.size() < kMaxDuplicatesReported) duplicates_.push_back(d.tsn);
    return Verdict::kDuplicate;
  }
  // The next TSN is always taken (it is what lets the window drain); others only while the
  // window has room.
  if (tsn > cum_ + kMaxAhead || (tsn != cum_ + 1 && buffered_ + d.user_data.size() > window_)) {
    ++counters_.out_of_window;
    return Verdict::kDropped;
  }
  above_cum_.insert(tsn);
  fragments_.emplace(tsn, Fragment{d.stream_id, d.ssn, d.ppid, d.unordered, d.beginning, d.ending,
                                   Bytes(d.user_data.begin(), d.user_data.end())});
  buffered_ += d.user_data.size();
  advance_cum();
  try_assemble(tsn);
  return Verdict::kNew;
}

void DataReceiver::advance_cum() {
  while (!above_cum_.empty() && *above_cum_.begin() == cum_ + 1) {
    above_cum_.erase(above_cum_.begin());
    ++cum_;
  }
}

// A message is the run of consecutive TSNs from a B fragment to an E fragment of one stream
// (and one SSN when ordered), RFC 9260 §6.9.
void DataReceiver::try_assemble(uint64_t tsn) {
  const Fragment& at = fragments_.at(tsn);
  auto same_message = [&](const Fragment& f) {
    return f.stream_id == at.stream_id && f.unordered == at.unordered && (f.unordered || f.ssn == at.ssn);
  };
  uint64_t first = tsn;
  while (!fragments_.at(first).beginning) {
    auto prev = fragments_.find(first - 1);
    if (prev == fragments_.end() || prev->second.ending || !same_message(prev->second)) return;
    --first;
  }
  uint64_t last = tsn;
  while (!fragments_.at(last).ending) {
    auto next = fragments_.find(last + 1);
    if (next == fragments_.end() || next->second.beginning || !same_message(next->second)) return;
    ++last;
  }
  ReceivedMessage m{at.stream_id, at.ppid, at.unordered, {}};
  const uint16_t ssn = at.ssn;
  size_t size = 0;
  for (uint64_t t = first; t <= last; ++t) size += fragments_.at(t).data.size();
  const bool oversized = size > max_message_;
  if (!oversized) m.data.reserve(size);
  for (uint64_t t = first; t <= last; ++t) {
    auto node = fragments_.extract(t);
    if (!oversized) m.data.insert(m.data.end(), node.mapped().data.begin(), node.mapped().data.end());
  }
  buffered_ -= size;
  if (oversized) {
    ++counters_.oversized;
    // An ordered stream must not wait forever for the SSN it dropped.
    if (!m.unordered) queue_ordered(m.stream_id, ssn, std::nullopt);
    return;
  }
  if (m.unordered) {
    ++counters_.messages;
    ready_.push_back(std::move(m));
    return;
  }
  const uint16_t stream = m.stream_id;
  queue_ordered(stream, ssn, std::move(m));
}

void DataReceiver::queue_ordered(uint16_t stream, uint16_t ssn, std::optional<ReceivedMessage> m) {
  OrderedStream& s = streams_[stream];
  if (ssn != s.next_ssn && !ssn_newer(ssn, s.next_ssn)) return;  // older than delivered: stale
  if (m) buffered_ += m->data.size();
  s.complete.insert_or_assign(ssn, std::move(m));
  deliver_ordered(stream);
}

void DataReceiver::deliver_ordered(uint16_t stream) {
  OrderedStream& s = streams_[stream];
  for (auto it = s.complete.find(s.next_ssn); it != s.complete.end(); it = s.complete.find(s.next_ssn)) {
    std::optional<ReceivedMessage> m = std::move(it->second);
    s.complete.erase(it);
    ++s.next_ssn;
    if (!m) continue;  // dropped as oversized
    buffered_ -= m->data.size();
    ++counters_.messages;
    ready_.push_back(std::move(*m));
  }
}

void DataReceiver::on_forward_tsn(const ForwardTsnChunk& f) {
  const uint64_t new_cum = unwrap_tsn(f.new_cumulative_tsn, cum_);
  if (new_cum <= cum_ || new_cum > cum_ + kMaxAhead) return;  // old, or beyond what could be outstanding
  // RFC 3758 §3.6: everything up to the new cumulative TSN counts as received; fragments of
  // the abandoned messages are dropped.
  while (!fragments_.empty() && fragments_.begin()->first <= new_cum) {
    buffered_ -= fragments_.begin()->second.data.size();
    fragments_.erase(fragments_.begin());
    ++counters_.abandoned_fragments;
  }
  while (!above_cum_.empty() && *above_cum_.begin() <= new_cum) above_cum_.erase(above_cum_.begin());
  cum_ = new_cum;
  advance_cum();
  for (const ForwardTsnStream& skip : f.streams) {
    OrderedStream& s = streams_[skip.stream_id];
    if (ssn_newer(s.next_ssn, skip.ssn)) continue;  // already past it
    const uint16_t next = uint16_t(skip.ssn + 1);
    for (auto it = s.complete.begin(); it != s.complete.end();) {
      if (it->first != next && !ssn_newer(it->first, next)) {
        if (it->second) buffered_ -= it->second->data.size();
        it = s.complete.erase(it);
      } else {
        ++it;
      }
    }
    s.next_ssn = next;
    deliver_ordered(skip.stream_id);
  }
}

SackChunk DataReceiver::make_sack() {
  SackChunk s;
  s.cumulative_tsn_ack = uint32_t(cum_);
  s.a_rwnd = a_rwnd();
  for (auto it = above_cum_.begin(); it != above_cum_.end() && s.gaps.size() < kMaxGapsReported;) {
    const uint64_t start = *it;
    uint64_t end = start;
    for (++it; it != above_cum_.end() && *it == end + 1; ++it) ++end;
    s.gaps.push_back({uint16_t(start - cum_), uint16_t(end - cum_)});
  }
  s.duplicates = std::move(duplicates_);
  duplicates_.clear();
  return s;
}

void DataReceiver::reset_streams(const std::vector<uint16_t>& streams) {
  auto reset = [&](OrderedStream& s) {
    for (auto& [ssn, m] : s.complete)
      if (m) buffered_ -= m->data.size();
    s.complete.clear();
    s.next_ssn = 0;
  };
  if (streams.empty()) {
    for (auto& [id, s] : streams_) reset(s);
    return;
  }
  for (uint16_t id : streams) reset(streams_[id]);
}

}  // namespace strata::sctp
