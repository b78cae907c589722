#include "datachannel/channels.hpp"

#include <chrono>

namespace strata::datachannel {

Channels::Channels(sctp::Association& association, bool dtls_client, size_t max_message_size)
    : association_(association), dtls_client_(dtls_client), max_message_(max_message_size),
      next_stream_(dtls_client ? 0 : 1) {}

const Channel* Channels::channel(uint16_t stream_id) const {
  auto it = channels_.find(stream_id);
  return it == channels_.end() ? nullptr : &it->second;
}

sctp::SendOptions Channels::options_of(const Channel& c) const {
  sctp::SendOptions o;
  // RFC 8832 §6: until the ACK arrives, messages go ordered so they cannot overtake the OPEN.
  o.unordered = !c.open.options.ordered && c.acked;
  if (c.open.options.reliability == Reliability::kRetransmits) o.max_retransmits = c.open.options.reliability_parameter;
  if (c.open.options.reliability == Reliability::kLifetime)
    o.lifetime = std::chrono::milliseconds(c.open.options.reliability_parameter);
  return o;
}

void Channels::poll(Timestamp now) {
  for (const auto& e : association_.take_events()) {
    if (e.kind == sctp::AssociationEvent::Kind::kIncomingStreamsReset) on_incoming_reset(e.streams, now);
    if (e.kind == sctp::AssociationEvent::Kind::kOutgoingStreamsReset) {
      for (uint16_t s : e.streams) {
        auto it = channels_.find(s);
        if (it == channels_.end()) continue;
        it->second.out_reset = true;
        close_if_done(it);
      }
    }
    if (e.kind == sctp::AssociationEvent::Kind::kClosed) {
      for (const auto& [s, c] : channels_) events_.push_back({ChannelEvent::Kind::kClosed, s, c.open.label, false});
      channels_.clear();
    }
  }
  auto& delivered = association_.messages();
  while (!delivered.empty()) {
    sctp::ReceivedMessage m = std::move(delivered.front());
    delivered.pop_front();
    if (m.ppid == uint32_t(Ppid::kDcep)) {
      on_dcep(m, now);
    } else {
      on_user_message(std::move(m));
    }
  }
}

void Channels::on_dcep(const sctp::ReceivedMessage& m, Timestamp now) {
  const DcepMessage d = parse_dcep(m.data);
  if (const auto* open = std::get_if<OpenMessage>(&d)) {
    // RFC 8832 §6: the peer's OPEN on a stream of its own parity. One on ours means both
    // opened the same stream: not allowed, the stream is reset.
    const bool peers_parity = (m.stream_id % 2 == 0) != dtls_client_;
    if (!peers_parity || channels_.count(m.stream_id)) {
      ++counters_.stream_collisions;
      return;
    }
    channels_[m.stream_id] = Channel{m.stream_id, *open, true, false};
    const Bytes ack = serialize_ack();
    association_.send(m.stream_id, uint32_t(Ppid::kDcep), ack, {}, now);
    events_.push_back({ChannelEvent::Kind::kOpened, m.stream_id, open->label, true});
    return;
  }
  if (std::holds_alternative<AckMessage>(d)) {
    auto it = channels_.find(m.stream_id);
    if (it != channels_.end()) it->second.acked = true;
    return;
  }
  ++counters_.bad_dcep;
}

void Channels::on_user_message(sctp::ReceivedMessage m) {
  const Payload p = payload_of(m.ppid);
  if (p == Payload::kNone) {
    ++counters_.bad_ppid;
    return;
  }
  auto it = channels_.find(m.stream_id);
  if (it == channels_.end()) {
    ++counters_.unknown_stream;
    return;
  }
  // RFC 8832 §6: a message after the peer's OPEN implies its ACK of ours.
  it->second.acked = true;
  if (is_empty(p)) m.data.clear();
  messages_.push_back({m.stream_id, p == Payload::kBinary || p == Payload::kBinaryEmpty, std::move(m.data)});
}

void Channels::on_incoming_reset(const std::vector<uint16_t>& streams, Timestamp now) {
  std::vector<uint16_t> answer;
  for (uint16_t s : streams) {
    auto it = channels_.find(s);
    if (it == channels_.end()) continue;
    it->second.in_reset = true;
    if (!it->second.closing) {  // the peer closed: reset our side too
      it->second.closing = true;
      answer.push_back(s);
    }
    close_if_done(it);
  }
  if (!answer.empty()) association_.reset_streams(answer, now);
}

// RFC 8831 §6.7: a channel is closed, and its stream free again, once both directions are
// reset.
void Channels::close_if_done(std::map<uint16_t, Channel>::iterator it) {
  if (!it->second.in_reset || !it->second.out_reset) return;
  events_.push_back({ChannelEvent::Kind::kClosed, it->first, it->second.open.label, false});
  channels_.erase(it);
}

std::optional<uint16_t> Channels::open(const OpenMessage& open, Timestamp now) {
  if (!association_.established()) return std::nullopt;
  const uint16_t limit = association_.outbound_streams();
  for (uint32_t s = next_stream_; s < limit; s += 2) {
    if (channels_.count(uint16_t(s))) continue;
    const Bytes msg = serialize_open(open);
    if (association_.send(uint16_t(s), uint32_t(Ppid::kDcep), msg, {}, now) != sctp::SendResult::kQueued) return std::nullopt;
    channels_[uint16_t(s)] = Channel{uint16_t(s), open, false, false};
    next_stream_ = uint16_t(s + 2 < limit ? s + 2 : (dtls_client_ ? 0 : 1));
    events_.push_back({ChannelEvent::Kind::kOpened, uint16_t(s), open.label, false});
    return uint16_t(s);
  }
  return std::nullopt;
}

ChannelSendResult Channels::send(uint16_t stream_id, bool binary, ByteSpan data, Timestamp now) {
  auto it = channels_.find(stream_id);
  if (it == channels_.end() || it->second.closing) return ChannelSendResult::kUnknownChannel;
  if (data.size() > max_message_) return ChannelSendResult::kTooLarge;
  // RFC 8831 §6.6: an empty message is one byte with the "empty" PPID.
  static const uint8_t kZero[1] = {0};
  const bool empty = data.empty();
  const Payload p = binary ? (empty ? Payload::kBinaryEmpty : Payload::kBinary) : (empty ? Payload::kStringEmpty : Payload::kString);
  const auto r = association_.send(stream_id, ppid_of(p), empty ? ByteSpan(kZero, 1) : data, options_of(it->second), now);
  switch (r) {
    case sctp::SendResult::kQueued: return ChannelSendResult::kSent;
    case sctp::SendResult::kBufferFull: return ChannelSendResult::kBufferFull;
    default: return ChannelSendResult::kNotOpen;
  }
}

void Channels::close(uint16_t stream_id, Timestamp now) {
  auto it = channels_.find(stream_id);
  if (it == channels_.end() || it->second.closing) return;
  it->second.closing = true;
  association_.reset_streams({stream_id}, now);
}

}  // namespace strata::datachannel
