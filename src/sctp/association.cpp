#include "sctp/association.hpp"

#include <algorithm>
#include <utility>

#include "sctp/tsn.hpp"

namespace strata::sctp {
namespace {

const std::vector<uint8_t> kExtensions = {uint8_t(ChunkType::kForwardTsn), uint8_t(ChunkType::kReconfig)};

Bytes chunk_bytes(const ChunkView& c) {
  // The whole chunk (header + value) as received, for an Unrecognized Chunk Type cause.
  const uint8_t* start = c.value.data() - kChunkHeaderSize;
  return Bytes(start, start + kChunkHeaderSize + c.value.size());
}

Duration backed_off(Duration base, uint32_t times, Duration max) {
  Duration d = base;
  for (uint32_t k = 0; k < times && d < max; ++k) d *= 2;
  return std::min(d, max);
}

}  // namespace

Association::Association(const AssociationConfig& config) : config_(config) {}

std::deque<ReceivedMessage>& Association::messages() { return receiver_ ? receiver_->messages() : no_messages_; }

Bytes Association::start_packet(uint32_t tag) const {
  Bytes p;
  p.reserve(config_.mtu);
  begin_packet(p, {config_.local_port, config_.remote_port, tag});
  return p;
}

void Association::send_single(Bytes packet) {
  finish_packet(packet);
  out_.push_back(std::move(packet));
  ++counters_.packets_out;
}

void Association::send_init(Timestamp) {
  InitChunk init;
  init.initiate_tag = config_.local_tag;
  init.a_rwnd = uint32_t(config_.receive_window);
  init.outbound_streams = init.inbound_streams = config_.streams;
  init.initial_tsn = config_.initial_tsn;
  init.forward_tsn_supported = true;
  init.supported_extensions = kExtensions;
  Bytes p = start_packet(0);  // §8.5.1: an INIT's verification tag is 0
  append_init(p, ChunkType::kInit, init);
  send_single(std::move(p));
}

void Association::connect(Timestamp now) {
  if (state_ != AssociationState::kClosed || ended_) return;
  state_ = AssociationState::kCookieWait;
  send_init(now);
  t1_count_ = 0;
  t1_ = now + config_.rto.initial;
}

bool Association::tag_ok(const CommonHeader& h, ByteSpan packet) const {
  auto first = ChunkIterator(packet).next();
  if (!first) return false;
  if (first->is(ChunkType::kInit)) return h.verification_tag == 0;  // §8.5.1 A
  // §8.5.1 B and C: ABORT and SHUTDOWN COMPLETE may carry the peer's own tag (T bit).
  if ((first->is(ChunkType::kAbort) || first->is(ChunkType::kShutdownComplete)) && tag_reflected(*first))
    return peer_.tag != 0 && h.verification_tag == peer_.tag;
  return h.verification_tag == config_.local_tag;
}

void Association::handle_packet(ByteSpan packet, Timestamp now) {
  ++counters_.packets_in;
  PacketError error{};
  auto header = parse_common_header(packet, &error);
  if (!header || header->destination_port != config_.local_port || header->source_port != config_.remote_port) {
    ++counters_.bad_packets;
    return;
  }
  if (!tag_ok(*header, packet)) {
    ++counters_.bad_tag;
    return;
  }
  if (ended_) return;
  ChunkIterator it(packet);
  bool stop = false;
  const uint64_t data_before = receiver_ ? receiver_->counters().chunks : 0;
  while (!stop) {
    auto chunk = it.next();
    if (!chunk) break;
    on_chunk(*chunk, now, &stop);
    if (chunk->is(ChunkType::kInit)) break;  // §6.10: an INIT is never bundled
  }
  if (it.malformed()) ++counters_.bad_packets;
  if (receiver_ && receiver_->counters().chunks > data_before) {
    // §6.2: SACK at once for out-of-order or duplicate data, else every second packet, else
    // after the delay.
    if (receiver_->has_gaps() || ++data_packets_unacked_ >= 2) sack_now_ = true;
    if (!sack_now_ && sack_deadline_ == kNever) sack_deadline_ = now + config_.delayed_sack;
    perform_deferred_resets();
  }
  progress_shutdown(now);
  maybe_send_reset(now);
  flush(now);
}

void Association::on_chunk(const ChunkView& c, Timestamp now, bool* stop) {
  switch (ChunkType(c.type)) {
    case ChunkType::kInit: on_init(c, now); return;
    case ChunkType::kInitAck: on_init_ack(c, now); return;
    case ChunkType::kCookieEcho: on_cookie_echo(c, now); return;
    case ChunkType::kCookieAck:
      if (state_ == AssociationState::kCookieEchoed) establish(peer_, now);
      return;
    case ChunkType::kData: on_data(c, now); return;
    case ChunkType::kSack: on_sack(c, now); return;
    case ChunkType::kForwardTsn:
      if (auto f = parse_forward_tsn(c); f && receiver_) {
        receiver_->on_forward_tsn(*f);
        sack_now_ = true;  // RFC 3758 §3.6: answer with a SACK
      } else if (!f) {
        ++counters_.bad_chunks;
      }
      return;
    case ChunkType::kReconfig: on_reconfig(c, now); return;
    case ChunkType::kHeartbeat:
      if (auto info = parse_heartbeat_info(c)) {
        ++counters_.heartbeats;
        Bytes ack;
        append_heartbeat(ack, ChunkType::kHeartbeatAck, *info);
        control_.push_back(std::move(ack));
      } else {
        ++counters_.bad_chunks;
      }
      return;
    case ChunkType::kHeartbeatAck: return;  // we send no heartbeats: ICE consent checks the path
    case ChunkType::kAbort:
      close("abort received");
      *stop = true;
      return;
    case ChunkType::kShutdown: on_shutdown(c, now); return;
    case ChunkType::kShutdownAck:
      if (state_ == AssociationState::kShutdownSent || state_ == AssociationState::kShutdownAckSent) {
        Bytes p = start_packet(peer_.tag);
        append_empty_chunk(p, ChunkType::kShutdownComplete);
        send_single(std::move(p));
        close("shutdown");
        *stop = true;
      }
      return;
    case ChunkType::kShutdownComplete:
      if (state_ == AssociationState::kShutdownAckSent) {
        close("shutdown");
        *stop = true;
      }
      return;
    case ChunkType::kError: return;  // causes are only informative here
    default: on_unknown(c, stop); return;
  }
}

void Association::on_init(const ChunkView& c, Timestamp) {
  if (state_ != AssociationState::kClosed && state_ != AssociationState::kCookieWait &&
      state_ != AssociationState::kCookieEchoed) {
    return;  // a restarted peer (§5.2.2) is not supported: its DTLS session restarts too
  }
  auto init = parse_init(c);
  if (!init) {
    ++counters_.bad_chunks;
    return;
  }
  pending_peer_ = {init->initiate_tag, init->initial_tsn, init->a_rwnd, init->outbound_streams, init->inbound_streams};
  // The cookie names both tags and the peer's TSN; a repeated INIT gets the same one.
  cookie_.clear();
  ByteWriter w(cookie_);
  w.u32(config_.local_tag);
  w.u32(init->initiate_tag);
  w.u32(init->initial_tsn);
  w.u32(init->a_rwnd);
  InitChunk ack;
  // §5.2.1: in a collision the INIT ACK repeats our INIT's parameters, tag included.
  ack.initiate_tag = config_.local_tag;
  ack.a_rwnd = uint32_t(config_.receive_window);
  ack.outbound_streams = std::min(config_.streams, init->inbound_streams);
  ack.inbound_streams = config_.streams;
  ack.initial_tsn = config_.initial_tsn;
  ack.state_cookie = cookie_;
  ack.forward_tsn_supported = true;
  ack.supported_extensions = kExtensions;
  ack.unrecognized = init->unrecognized;
  Bytes p = start_packet(init->initiate_tag);
  append_init(p, ChunkType::kInitAck, ack);
  send_single(std::move(p));
}

void Association::on_init_ack(const ChunkView& c, Timestamp now) {
  if (state_ != AssociationState::kCookieWait) return;  // §5.2.3: otherwise discarded
  auto ack = parse_init(c);
  if (!ack) {
    ++counters_.bad_chunks;
    return;
  }
  peer_ = {ack->initiate_tag, ack->initial_tsn, ack->a_rwnd, ack->outbound_streams, ack->inbound_streams};
  peer_cookie_.assign(ack->state_cookie.begin(), ack->state_cookie.end());
  state_ = AssociationState::kCookieEchoed;
  Bytes p = start_packet(peer_.tag);
  append_cookie_echo(p, peer_cookie_);
  send_single(std::move(p));
  t1_count_ = 0;
  t1_ = now + config_.rto.initial;
}

void Association::on_cookie_echo(const ChunkView& c, Timestamp now) {
  if (cookie_.empty() || c.value.size() != cookie_.size() || !std::equal(cookie_.begin(), cookie_.end(), c.value.begin())) {
    ++counters_.bad_chunks;
    return;
  }
  if (state_ == AssociationState::kClosed || state_ == AssociationState::kCookieWait ||
      state_ == AssociationState::kCookieEchoed) {
    establish(pending_peer_, now);
  }
  if (state_ != AssociationState::kEstablished) return;
  Bytes ack;
  append_empty_chunk(ack, ChunkType::kCookieAck);  // repeated for a repeated COOKIE ECHO
  control_.insert(control_.begin(), std::move(ack));
}

void Association::establish(const Peer& peer, Timestamp) {
  peer_ = peer;
  outbound_streams_ = std::min(config_.streams, peer.inbound_streams);
  receiver_ = std::make_unique<DataReceiver>(peer.initial_tsn, config_.receive_window, config_.max_message_size);
  sender_ = std::make_unique<DataSender>(config_.initial_tsn, peer.a_rwnd, SenderConfig{config_.mtu, config_.send_buffer},
                                         config_.rto);
  next_request_seq_ = config_.initial_tsn;
  peer_next_request_seq_ = peer.initial_tsn;
  state_ = AssociationState::kEstablished;
  t1_ = kNever;
  events_.push_back({AssociationEvent::Kind::kEstablished, {}, {}});
}

void Association::on_data(const ChunkView& c, Timestamp) {
  if (!receiver_ || state_ == AssociationState::kClosed) return;
  auto d = parse_data(c);
  if (!d) {
    ++counters_.bad_chunks;  // §6.2: a DATA chunk without user data should ABORT; we drop it
    return;
  }
  if (receiver_->on_data(*d) == DataReceiver::Verdict::kDuplicate || d->immediate) sack_now_ = true;
}

void Association::on_sack(const ChunkView& c, Timestamp now) {
  auto s = parse_sack(c);
  if (!s) {
    ++counters_.bad_chunks;
    return;
  }
  if (sender_) sender_->on_sack(*s, now);
}

void Association::on_reconfig(const ChunkView& c, Timestamp now) {
  auto r = parse_reconfig(c);
  if (!r || !receiver_) {
    if (!r) ++counters_.bad_chunks;
    return;
  }
  for (const auto& req : r->outgoing) on_outgoing_reset_request(req);
  // Data channels reset outgoing streams only.
  for (const auto& req : r->incoming) queue_response(req.request_seq, ReconfigResult::kDenied, false);
  for (const auto& other : r->others) queue_response(other.request_seq, ReconfigResult::kDenied, false);
  for (const auto& resp : r->responses) {
    if (!reset_in_flight_ || resp.response_seq != reset_in_flight_->request_seq) continue;
    if (resp.result == uint32_t(ReconfigResult::kInProgress)) {
      reset_in_flight_->deadline = now + (sender_ ? sender_->rto().value() : config_.rto.initial);
      continue;
    }
    const bool done = resp.result == uint32_t(ReconfigResult::kSuccessPerformed) ||
                      resp.result == uint32_t(ReconfigResult::kSuccessNothingToDo);
    if (done) {
      sender_->reset_streams(reset_in_flight_->streams);
      events_.push_back({AssociationEvent::Kind::kOutgoingStreamsReset, reset_in_flight_->streams, {}});
    }
    reset_in_flight_.reset();
  }
}

void Association::on_outgoing_reset_request(const OutgoingResetRequest& r) {
  if (r.request_seq == peer_next_request_seq_) {
    ++peer_next_request_seq_;
    deferred_.push_back({r});
    perform_deferred_resets();  // at once if everything the peer sent before it has arrived
    return;
  }
  if (r.request_seq == uint32_t(peer_next_request_seq_ - 1)) {
    // A retransmission: repeat the answer, unless the reset still waits for data.
    if (last_response_ && last_response_->response_seq == r.request_seq)
      queue_response(r.request_seq, ReconfigResult(last_response_->result), true);
    return;
  }
  queue_response(r.request_seq, ReconfigResult::kErrorBadSequenceNumber, true);
}

// RFC 6525 §5.2.2: a reset applies once every TSN up to the sender's last assigned one
// has arrived; until then it is deferred.
void Association::perform_deferred_resets() {
  if (!receiver_) return;
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    const OutgoingResetRequest& r = it->request;
    if (tsn_newer(r.sender_last_tsn, receiver_->cumulative_tsn())) {
      ++it;
      continue;
    }
    receiver_->reset_streams(r.streams);
    events_.push_back({AssociationEvent::Kind::kIncomingStreamsReset, r.streams, {}});
    queue_response(r.request_seq, ReconfigResult::kSuccessPerformed, true);
    it = deferred_.erase(it);
  }
}

void Association::reset_streams(const std::vector<uint16_t>& streams, Timestamp now) {
  if (!established()) return;
  for (uint16_t s : streams)
    if (std::find(resets_wanted_.begin(), resets_wanted_.end(), s) == resets_wanted_.end()) resets_wanted_.push_back(s);
  maybe_send_reset(now);
  flush(now);
}

void Association::maybe_send_reset(Timestamp now) {
  if (reset_in_flight_ || resets_wanted_.empty() || !sender_ || !established()) return;
  reset_in_flight_ = PendingReset{next_request_seq_++, std::exchange(resets_wanted_, {}), sender_->last_assigned_tsn(),
                                  now + sender_->rto().value()};
  queue_reset_request();
}

// RFC 6525 §5.1.1: a retransmission repeats the request with its sequence number.
void Association::queue_reset_request() {
  ReconfigChunk chunk;
  chunk.outgoing.push_back({reset_in_flight_->request_seq, uint32_t(peer_next_request_seq_ - 1),
                            reset_in_flight_->sender_last_tsn, reset_in_flight_->streams});
  Bytes bytes;
  append_reconfig(bytes, chunk);
  control_.push_back(std::move(bytes));
}

// `remember`: the answer to a peer's outgoing reset request, repeated if it asks again.
void Association::queue_response(uint32_t request_seq, ReconfigResult result, bool remember) {
  ReconfigChunk chunk;
  chunk.responses.push_back({request_seq, uint32_t(result), std::nullopt, std::nullopt});
  if (remember) last_response_ = chunk.responses.back();
  Bytes bytes;
  append_reconfig(bytes, chunk);
  control_.push_back(std::move(bytes));
}

void Association::on_shutdown(const ChunkView& c, Timestamp now) {
  auto cum = parse_shutdown(c);
  if (!cum || !sender_) {
    if (!cum) ++counters_.bad_chunks;
    return;
  }
  sender_->on_cumulative_ack(*cum, now);
  if (state_ == AssociationState::kEstablished || state_ == AssociationState::kShutdownPending)
    state_ = AssociationState::kShutdownReceived;
  if (state_ == AssociationState::kShutdownSent) state_ = AssociationState::kShutdownReceived;  // §9.2 both shut down
}

void Association::shutdown(Timestamp now) {
  if (state_ != AssociationState::kEstablished) return;
  state_ = AssociationState::kShutdownPending;
  progress_shutdown(now);
  flush(now);
}

void Association::progress_shutdown(Timestamp now) {
  if (!sender_ || !sender_->everything_acked()) return;
  if (state_ == AssociationState::kShutdownPending) {
    Bytes p = start_packet(peer_.tag);
    append_shutdown(p, receiver_->cumulative_tsn());
    send_single(std::move(p));
    state_ = AssociationState::kShutdownSent;
    t2_count_ = 0;
    t2_ = now + sender_->rto().value();
  } else if (state_ == AssociationState::kShutdownReceived) {
    Bytes p = start_packet(peer_.tag);
    append_empty_chunk(p, ChunkType::kShutdownAck);
    send_single(std::move(p));
    state_ = AssociationState::kShutdownAckSent;
    t2_count_ = 0;
    t2_ = now + sender_->rto().value();
  }
}

void Association::abort(std::string_view reason, Timestamp) {
  if (state_ == AssociationState::kClosed) return;
  if (peer_.tag != 0) {
    Bytes p = start_packet(peer_.tag);
    const size_t start = append_chunk_header(p, ChunkType::kAbort, 0);
    append_cause(p, CauseCode::kUserInitiatedAbort, ByteSpan(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
    finish_chunk(p, start);
    send_single(std::move(p));
  }
  close(std::string(reason));
}

void Association::close(std::string reason) {
  if (ended_) return;
  ended_ = true;
  state_ = AssociationState::kClosed;
  t1_ = t2_ = sack_deadline_ = kNever;
  reset_in_flight_.reset();
  control_.clear();
  events_.push_back({AssociationEvent::Kind::kClosed, {}, std::move(reason)});
}

void Association::on_unknown(const ChunkView& c, bool* stop) {
  ++counters_.unknown_chunks;
  const auto action = unknown_chunk_action(c.type);
  if (action.report && established()) {
    Bytes error;
    const size_t start = append_chunk_header(error, ChunkType::kError, 0);
    append_cause(error, CauseCode::kUnrecognizedChunkType, chunk_bytes(c));
    if (finish_chunk(error, start)) control_.push_back(std::move(error));
  }
  if (!action.skip) *stop = true;
}

SendResult Association::send(uint16_t stream, uint32_t ppid, ByteSpan data, const SendOptions& options, Timestamp now) {
  if (!established() || !sender_) return SendResult::kNotOpen;
  if (stream >= outbound_streams_) return SendResult::kInvalidStream;
  const SendResult r = sender_->send(stream, ppid, data, options, now);
  if (r == SendResult::kQueued) flush(now);
  return r;
}

void Association::handle_timeout(Timestamp now) {
  if (now >= t1_) {
    if (t1_count_ >= config_.max_init_retransmissions) {
      close("peer unreachable (handshake)");
      return;
    }
    ++t1_count_;
    if (state_ == AssociationState::kCookieWait) send_init(now);
    if (state_ == AssociationState::kCookieEchoed) {
      Bytes p = start_packet(peer_.tag);
      append_cookie_echo(p, peer_cookie_);
      send_single(std::move(p));
    }
    t1_ = now + backed_off(config_.rto.initial, t1_count_, config_.rto.max);
  }
  if (sender_ && state_ != AssociationState::kClosed && now >= sender_->t3_deadline()) {
    sender_->on_t3_expiry(now);
    if (sender_->consecutive_t3_expiries() > config_.max_retransmissions) {
      abort("peer unreachable", now);
      return;
    }
  }
  if (now >= sack_deadline_) sack_now_ = true;
  if (reset_in_flight_ && now >= reset_in_flight_->deadline) {
    queue_reset_request();
    reset_in_flight_->deadline = now + sender_->rto().value();
  }
  if (now >= t2_) {
    if (++t2_count_ > config_.max_retransmissions) {
      close("peer unreachable (shutdown)");
      return;
    }
    Bytes p = start_packet(peer_.tag);
    if (state_ == AssociationState::kShutdownSent) append_shutdown(p, receiver_->cumulative_tsn());
    if (state_ == AssociationState::kShutdownAckSent) append_empty_chunk(p, ChunkType::kShutdownAck);
    if (p.size() > kCommonHeaderSize) send_single(std::move(p));
    t2_ = now + backed_off(sender_->rto().value(), t2_count_, config_.rto.max);
  }
  flush(now);
}

Timestamp Association::next_timeout() const {
  Timestamp t = std::min({t1_, t2_, sack_deadline_});
  if (sender_ && state_ != AssociationState::kClosed) t = std::min(t, sender_->t3_deadline());
  if (reset_in_flight_) t = std::min(t, reset_in_flight_->deadline);
  return t;
}

void Association::flush(Timestamp now) {
  if (ended_ || !sender_) return;
  const bool data_allowed = state_ == AssociationState::kEstablished || state_ == AssociationState::kShutdownPending ||
                            state_ == AssociationState::kShutdownReceived;
  for (;;) {
    Bytes p = start_packet(peer_.tag);
    const size_t limit = config_.mtu;
    // A pending (delayed) SACK rides along with whatever this packet carries anyway.
    const bool other = !control_.empty() || (data_allowed && sender_->has_sendable());
    if (receiver_ && (sack_now_ || (sack_deadline_ != kNever && other))) {
      append_sack(p, receiver_->make_sack());
      sack_now_ = false;
      sack_deadline_ = kNever;
      data_packets_unacked_ = 0;
    }
    if (auto f = sender_->take_forward_tsn()) append_forward_tsn(p, *f);
    while (!control_.empty() && p.size() + control_.front().size() <= limit) {
      p.insert(p.end(), control_.front().begin(), control_.front().end());
      control_.erase(control_.begin());
    }
    if (data_allowed && p.size() < limit) sender_->fill(p, limit - p.size(), now);
    if (p.size() == kCommonHeaderSize) return;
    send_single(std::move(p));
    if (control_.empty() && !(data_allowed && sender_->has_sendable())) return;
  }
}

}  // namespace strata::sctp
