// One PeerConnection's transport on the server: ICE-lite + DTLS + SRTP over one UDP
// 5-tuple (BUNDLE + rtcp-mux, so one of each). Sans-IO: datagrams and time in, datagrams out
// through Output; the worker does the socket I/O.
//
// No amplification (docs/ARCHITECTURE.md): as the ICE-lite side, nothing but STUN answers
// (each at most the size of the check it answers, ice::IceLiteAgent) goes to a path before
// it is verified. DTLS in either role, SRTP and SRTCP go only to the selected path, which
// is always verified. A ClientHello that arrives on a nominated path before that path has
// answered our verification request is held (kMaxHeldDtls datagrams / kMaxHeldDtlsBytes,
// allocated only while needed) and handled once it does.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "dtls/certificate.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/ice_controlling_agent.hpp"
#include "ice/ice_lite_agent.hpp"
#include "srtp/srtp_session.hpp"

namespace strata::transport {

struct TransportConfig {
  std::string local_ufrag, local_pwd;
  std::string remote_ufrag;
  // The peer's ICE password (its a=ice-pwd). The ICE-lite side keys its path verification
  // requests with it; without it no path verifies and the transport fails at once.
  std::string remote_pwd;
  dtls::Role dtls_role = dtls::Role::kServer;
  std::string remote_fingerprint_algorithm = "sha-256";
  Bytes remote_fingerprint;
  std::shared_ptr<const dtls::Certificate> certificate;
  Duration consent_timeout = std::chrono::seconds(30);  // RFC 7675 §5.1
  // After an ICE restart, how long late checks of the previous generation are answered
  // once the new one is in use (ice::IceLiteAgent::Config).
  Duration previous_ice_generation_grace = std::chrono::seconds(3);
  // Client mode (a server relaying from another server): we are the ICE controlling agent
  // checking the peer's candidates, instead of the ICE-lite side.
  bool ice_controlling = false;
  std::vector<SocketAddress> remote_candidates;
};

enum class TransportState { kNew, kConnecting, kConnected, kClosed, kFailed };
const char* to_string(TransportState s);

class WebRtcTransport {
 public:
  class Output {
   public:
    virtual ~Output() = default;
    // Send one datagram to `to` (copied by the callee), from the local address `from` when
    // that is set (a server advertising several addresses on one wildcard socket answers
    // from the address the client checked), else from the socket's own address.
    virtual void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress& from) = 0;
    // ICE selected (or moved to) this address: route its datagrams here.
    virtual void on_address_selected(const SocketAddress& addr) = 0;
    // A client address we are verifying (ice::IceLiteAgent): route its datagrams here too,
    // unless another session has it (an unverified path must not take a verified one's
    // address). Forgotten: no path of ours has it any more.
    virtual void on_address_pending(const SocketAddress& addr) { (void)addr; }
    virtual void on_address_forgotten(const SocketAddress& addr) { (void)addr; }
  };

  enum class Received { kNothing, kRtp, kRtcp };
  struct Counters {
    uint64_t stun_unauthenticated = 0, malformed = 0, srtp_auth_failed = 0, not_ready = 0;
    // No amplification: STUN to unverified paths withheld because larger than the check it
    // answers; our verification requests sent; paths verified; DTLS from a nominated path
    // held until it verified, and dropped (over the bound, or another path verified).
    uint64_t stun_withheld = 0, verification_requests = 0, paths_verified = 0;
    uint64_t dtls_held = 0, dtls_held_dropped = 0;
  };
  static constexpr size_t kMaxHeldDtls = 4;
  static constexpr size_t kMaxHeldDtlsBytes = 4096;

  WebRtcTransport(TransportConfig config, Output& out);
  ~WebRtcTransport();

  // Handles one demuxed datagram. RTP and RTCP are decrypted in place: on kRtp/kRtcp the
  // plaintext is data[0..*len). Everything else is consumed here. `local`: the address the
  // datagram was sent to, when the socket reports it (see ice::IceLiteAgent paths).
  Received handle_datagram(uint8_t* data, size_t* len, const SocketAddress& from, Timestamp now,
                           const SocketAddress& local = {});
  // Timers: DTLS retransmission, ICE consent.
  void handle_tick(Timestamp now);

  // Protects in place (capacity >= len + kSrtpMaxTrailer); false when not connected or on
  // error. `*out_len` is the protected length.
  bool protect_rtp(uint8_t* data, size_t len, size_t capacity, size_t* out_len);
  bool protect_rtcp(uint8_t* data, size_t len, size_t capacity, size_t* out_len);

  // ICE restart (RFC 8445 §9): new credentials on both sides; the selected address keeps
  // carrying media until the client nominates again (and that path verifies). DTLS and SRTP
  // are unaffected.
  void restart_ice(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag, std::string remote_pwd);
  // The ufrag of the generation before the last restart while its checks are still
  // answered (ice::IceLiteAgent::restart), else empty.
  const std::string& previous_local_ufrag() const { return ice_.previous_local_ufrag(); }

  // Sends DTLS close_notify (the peer learns the session ended).
  void close(Timestamp now);

  TransportState state() const { return state_; }
  const std::string& failure_reason() const { return failure_reason_; }
  std::optional<SocketAddress> remote_address() const {
    return ice_client_ ? ice_client_->selected_address() : ice_.selected_address();
  }
  // Where datagrams to remote_address() leave from: the local address of the nominated
  // path; empty = the socket's own address.
  const SocketAddress& local_address() const { return ice_.selected_local_address(); }
  const Counters& counters() const { return counters_; }
  const std::string& local_ufrag() const { return config_.local_ufrag; }

 private:
  void handle_stun(uint8_t* data, size_t len, const SocketAddress& from, const SocketAddress& local, Timestamp now);
  void send_stun(const ice::IceLiteAgent::Result& r, const SocketAddress& from, const SocketAddress& local);
  void sync_ice_counters();
  // DTLS from `from` (not the selected path) before DTLS is up: follows it (rule 4), holds
  // it while its path verifies, or drops it. True when it is to be handled now.
  bool accept_off_path_dtls(const uint8_t* data, size_t len, const SocketAddress& from, const SocketAddress& local,
                            Timestamp now);
  // The path (from, local) verified: the DTLS it sent meanwhile is handled now.
  void release_held_dtls(const SocketAddress& from, const SocketAddress& local, Timestamp now);
  void free_held_dtls();
  void handle_client_stun(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now);
  void tick_client_ice(Timestamp now);
  void send_ice(std::vector<ice::IceControllingAgent::Outgoing>& out);
  void on_path_selected(const SocketAddress& addr, Timestamp now);
  void handle_dtls(const uint8_t* data, size_t len, Timestamp now);
  void flush_dtls();
  void on_dtls_connected();
  void fail(std::string reason);

  TransportConfig config_;
  Output& out_;
  ice::IceLiteAgent ice_;
  std::unique_ptr<ice::IceControllingAgent> ice_client_;  // client mode only
  std::vector<ice::IceControllingAgent::Outgoing> ice_out_;
  std::unique_ptr<dtls::DtlsTransport> dtls_;
  std::unique_ptr<srtp::SrtpSession> srtp_in_, srtp_out_;
  TransportState state_ = TransportState::kNew;
  std::string failure_reason_;
  Counters counters_;
  bool dtls_started_ = false;
  struct HeldDtls {
    SocketAddress from, local;
    Bytes data;
  };
  std::vector<HeldDtls> held_dtls_;  // empty (no capacity) unless a handshake waits for its path
  size_t held_dtls_bytes_ = 0;
};

}  // namespace strata::transport
