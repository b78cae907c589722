#include "transport/webrtc_transport.hpp"

#include "common/random.hpp"
#include "rtp/rtp_packet.hpp"

namespace strata::transport {

const char* to_string(TransportState s) {
  switch (s) {
    case TransportState::kNew: return "new";
    case TransportState::kConnecting: return "connecting";
    case TransportState::kConnected: return "connected";
    case TransportState::kClosed: return "closed";
    case TransportState::kFailed: return "failed";
  }
  return "?";
}

WebRtcTransport::WebRtcTransport(TransportConfig config, Output& out)
    : config_(std::move(config)),
      out_(out),
      ice_(config_.local_ufrag, config_.local_pwd,
           config_.remote_ufrag.empty() ? std::nullopt : std::optional<std::string>(config_.remote_ufrag),
           config_.remote_pwd,
           ice::IceLiteAgent::Config{.consent_timeout = config_.consent_timeout,
                                     .previous_generation_grace = config_.previous_ice_generation_grace,
                                     .tie_breaker = random_u64()}) {
  // No DataChannel yet: DTLS only agrees on the SRTP keys, so its OpenSSL connection is
  // dropped once connected (memory per viewer; dtls/retired_dtls.hpp).
  dtls_ = std::make_unique<dtls::DtlsTransport>(config_.certificate, config_.dtls_role,
                                                config_.remote_fingerprint_algorithm, config_.remote_fingerprint,
                                                dtls::TransportOptions{.retire_after_handshake = true});
  if (config_.ice_controlling) {
    ice::IceControllingAgent::Config c;
    c.consent_timeout = config_.consent_timeout;
    ice_client_ = std::make_unique<ice::IceControllingAgent>(config_.local_ufrag, config_.local_pwd, config_.remote_ufrag,
                                                             config_.remote_pwd, random_u64(), c);
    uint32_t priority = 2130706431u;
    for (auto& c : config_.remote_candidates) ice_client_->add_remote_candidate(c, priority--);
  } else if (config_.remote_pwd.empty()) {
    // Fail closed: without the client's password no path can verify, so nothing would ever
    // be sent; say so at once instead of timing out.
    fail("ICE: no remote password (a=ice-pwd) to verify the client's address with");
  }
}

WebRtcTransport::~WebRtcTransport() = default;

WebRtcTransport::Received WebRtcTransport::handle_datagram(uint8_t* data, size_t* len, const SocketAddress& from,
                                                           Timestamp now, const SocketAddress& local) {
  uint8_t b = *len ? data[0] : 255;
  if (b <= 3) {
    if (ice_client_) {
      handle_client_stun(data, *len, from, now);
    } else {
      handle_stun(data, *len, from, local, now);
    }
    return Received::kNothing;
  }
  // DTLS and SRTP only from the address ICE selected (RFC 8445 §12: media on the nominated pair).
  auto selected = remote_address();
  if ((!selected || !(*selected == from)) && !accept_off_path_dtls(data, *len, from, local, now)) {
    return Received::kNothing;
  }
  if (b >= 20 && b <= 63) {
    handle_dtls(data, *len, now);
    return Received::kNothing;
  }
  if (b < 128 || b > 191) {
    // RFC 7983 §7: 64-79 is TURN channel data and the rest is unassigned; only 128-191
    // is RTP/RTCP, so anything else is malformed here, not an SRTP failure.
    ++counters_.malformed;
    return Received::kNothing;
  }
  if (state_ != TransportState::kConnected) {
    ++counters_.not_ready;
    return Received::kNothing;
  }
  ByteSpan bytes(data, *len);
  size_t plain = 0;
  if (rtp::looks_like_rtcp(bytes)) {
    if (srtp_in_->unprotect_rtcp(data, *len, &plain) != srtp::Status::kOk) {
      ++counters_.srtp_auth_failed;
      return Received::kNothing;
    }
    *len = plain;
    return Received::kRtcp;
  }
  if (srtp_in_->unprotect_rtp(data, *len, &plain) != srtp::Status::kOk) {
    ++counters_.srtp_auth_failed;
    return Received::kNothing;
  }
  *len = plain;
  return Received::kRtp;
}

void WebRtcTransport::handle_stun(uint8_t* data, size_t len, const SocketAddress& from, const SocketAddress& local,
                                  Timestamp now) {
  auto before = ice_.selected_address();
  auto result = ice_.handle_binding(ByteSpan(data, len), from, now, local);
  sync_ice_counters();
  if (!result.authenticated) {
    ++counters_.stun_unauthenticated;
    return;
  }
  if (result.forgotten) out_.on_address_forgotten(*result.forgotten);
  if (result.new_address) out_.on_address_pending(from);
  send_stun(result, from, local);
  auto after = ice_.selected_address();
  if (after && (!before || !(*before == *after))) on_path_selected(*after, now);
  if (result.verified) release_held_dtls(from, local, now);
}

void WebRtcTransport::send_stun(const ice::IceLiteAgent::Result& r, const SocketAddress& from,
                                const SocketAddress& local) {
  // Both leave from the address the check was sent to, whatever path is selected: the
  // client matches them to that pair only then (RFC 8445 §7.2.5.2.1). Our request goes
  // first, so that a client that starts DTLS on our response has usually answered it
  // before its ClientHello reaches us (nothing to hold).
  if (r.request) out_.send_datagram(r.request->data(), r.request->size(), from, local);
  if (r.response) out_.send_datagram(r.response->data(), r.response->size(), from, local);
}

void WebRtcTransport::sync_ice_counters() {
  const auto& c = ice_.counters();
  counters_.stun_withheld = c.responses_withheld + c.requests_withheld;
  counters_.verification_requests = c.verification_requests;
  counters_.paths_verified = c.paths_verified;
}

bool WebRtcTransport::accept_off_path_dtls(const uint8_t* data, size_t len, const SocketAddress& from,
                                           const SocketAddress& local, Timestamp now) {
  // The handshake came on another nominated path (ice::IceLiteAgent rule 4): the client
  // chose that one, so media goes there. Only before DTLS is up: afterwards the path moves
  // by nomination or consent (rules 1, 2), never by an unauthenticated packet.
  const bool handshake = len > 0 && data[0] >= 20 && data[0] <= 63 && state_ != TransportState::kConnected;
  if (ice_client_ || !handshake) {
    ++counters_.malformed;
    return false;
  }
  if (ice_.follow_media(from, now, local)) {
    on_path_selected(from, now);
    return true;
  }
  if (!ice_.awaits_verification(from, local)) {
    ++counters_.malformed;
    return false;
  }
  // The client got our success response before its answer to our request reached us:
  // hold its flight until it does, instead of losing a DTLS retransmission timeout (1 s).
  if (held_dtls_.size() >= kMaxHeldDtls || held_dtls_bytes_ + len > kMaxHeldDtlsBytes) {
    ++counters_.dtls_held_dropped;
    return false;
  }
  held_dtls_.push_back(HeldDtls{from, local, Bytes(data, data + len)});
  held_dtls_bytes_ += len;
  ++counters_.dtls_held;
  return false;
}

void WebRtcTransport::release_held_dtls(const SocketAddress& from, const SocketAddress& local, Timestamp now) {
  if (held_dtls_.empty()) return;
  auto held = std::move(held_dtls_);
  free_held_dtls();
  if (state_ != TransportState::kConnected) {
    auto selected = remote_address();
    if (!selected || !(*selected == from)) {
      if (ice_.follow_media(from, now, local)) on_path_selected(from, now);
    }
  }
  auto selected = remote_address();
  const bool on_path = selected && *selected == from && state_ != TransportState::kConnected;
  for (auto& h : held) {
    // One handshake at a time: the other paths' datagrams go (the client resends its
    // flight where it gets our answers).
    if (!on_path || !(h.from == from) || !(h.local == local)) {
      ++counters_.dtls_held_dropped;
      continue;
    }
    handle_dtls(h.data.data(), h.data.size(), now);
  }
}

void WebRtcTransport::free_held_dtls() {
  std::vector<HeldDtls>().swap(held_dtls_);
  held_dtls_bytes_ = 0;
}

void WebRtcTransport::on_path_selected(const SocketAddress& addr, Timestamp now) {
  out_.on_address_selected(addr);
  if (state_ == TransportState::kNew) state_ = TransportState::kConnecting;
  // DTLS client role: start the handshake once ICE has a path (RFC 8842 §4).
  if (!dtls_started_) {
    dtls_started_ = true;
    dtls_->start(now);
    flush_dtls();
  }
}

void WebRtcTransport::send_ice(std::vector<ice::IceControllingAgent::Outgoing>& out) {
  for (auto& o : out) out_.send_datagram(o.data.data(), o.data.size(), o.to, SocketAddress{});
  out.clear();
}

void WebRtcTransport::handle_client_stun(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) {
  auto before = ice_client_->selected_address();
  ice_client_->handle_stun(ByteSpan(data, len), from, now, ice_out_);
  send_ice(ice_out_);
  auto after = ice_client_->selected_address();
  if (after && (!before || !(*before == *after))) on_path_selected(*after, now);
}

void WebRtcTransport::tick_client_ice(Timestamp now) {
  ice_client_->handle_timeout(now, ice_out_);
  send_ice(ice_out_);
  using S = ice::IceControllingAgent::State;
  if (ice_client_->state() == S::kFailed) fail("ICE: no answer from the relay peer's candidates");
  if (ice_client_->state() == S::kDisconnected && state_ != TransportState::kClosed) {
    state_ = TransportState::kClosed;
    failure_reason_ = "ICE consent expired (no answer to checks for 30 s)";
  }
}

void WebRtcTransport::handle_dtls(const uint8_t* data, size_t len, Timestamp now) {
  if (!dtls_started_) {
    dtls_started_ = true;
    dtls_->start(now);
  }
  dtls_->handle_datagram(ByteSpan(data, len), now);
  flush_dtls();
  if (dtls_->state() == dtls::State::kConnected && state_ != TransportState::kConnected &&
      state_ != TransportState::kClosed) {
    on_dtls_connected();
  }
  if (dtls_->state() == dtls::State::kFailed) fail("dtls: " + dtls_->failure_reason());
  if (dtls_->peer_closed() && state_ != TransportState::kClosed) {
    state_ = TransportState::kClosed;
    failure_reason_ = "peer closed DTLS";
  }
}

void WebRtcTransport::on_dtls_connected() {
  auto keys = dtls_->srtp_keys();
  if (!keys) return fail("dtls: no SRTP keys exported");
  // One session per direction: it derives separate SRTP and SRTCP keys (RFC 3711 §4.3).
  srtp_out_ = srtp::SrtpSession::create(keys->profile, keys->local_key, keys->local_salt);
  srtp_in_ = srtp::SrtpSession::create(keys->profile, keys->remote_key, keys->remote_salt);
  if (!srtp_out_ || !srtp_in_) return fail("srtp: cannot create sessions");
  state_ = TransportState::kConnected;
  free_held_dtls();
}

void WebRtcTransport::flush_dtls() {
  // Only to the selected path, which is verified (either DTLS role; no amplification).
  auto selected = remote_address();
  for (auto& d : dtls_->take_outgoing()) {
    if (selected) out_.send_datagram(d.data(), d.size(), *selected, local_address());
  }
}

void WebRtcTransport::handle_tick(Timestamp now) {
  if (state_ == TransportState::kClosed || state_ == TransportState::kFailed) return;
  if (ice_client_) tick_client_ice(now);
  if (state_ == TransportState::kClosed || state_ == TransportState::kFailed) return;
  if (dtls_started_ && now >= dtls_->next_timeout()) {
    dtls_->handle_timeout(now);
    flush_dtls();
    if (dtls_->state() == dtls::State::kFailed) return fail("dtls: " + dtls_->failure_reason());
  }
  if (!ice_client_) ice_.handle_timeout(now);  // ends a restart's previous generation
  if (!ice_client_ && ice_.consent_expired(now)) {
    state_ = TransportState::kClosed;
    failure_reason_ = "ICE consent expired (no authenticated check for " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config_.consent_timeout).count()) +
                      " s)";
  }
}

bool WebRtcTransport::protect_rtp(uint8_t* data, size_t len, size_t capacity, size_t* out_len) {
  if (state_ != TransportState::kConnected) return false;
  return srtp_out_->protect_rtp(data, len, capacity, out_len) == srtp::Status::kOk;
}

bool WebRtcTransport::protect_rtcp(uint8_t* data, size_t len, size_t capacity, size_t* out_len) {
  if (state_ != TransportState::kConnected) return false;
  return srtp_out_->protect_rtcp(data, len, capacity, out_len) == srtp::Status::kOk;
}

void WebRtcTransport::restart_ice(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag,
                                  std::string remote_pwd) {
  config_.local_ufrag = local_ufrag;
  config_.local_pwd = local_pwd;
  config_.remote_ufrag = remote_ufrag;
  config_.remote_pwd = remote_pwd;
  ice_.restart(std::move(local_ufrag), std::move(local_pwd),
               remote_ufrag.empty() ? std::nullopt : std::optional<std::string>(std::move(remote_ufrag)),
               std::move(remote_pwd));
}

void WebRtcTransport::close(Timestamp now) {
  if (dtls_started_ && dtls_->state() == dtls::State::kConnected) {
    dtls_->close(now);
    flush_dtls();
  }
  if (state_ != TransportState::kFailed) state_ = TransportState::kClosed;
}

void WebRtcTransport::fail(std::string reason) {
  state_ = TransportState::kFailed;
  failure_reason_ = std::move(reason);
}

}  // namespace strata::transport
