// DTLS 1.2 for DTLS-SRTP (RFC 5764, RFC 8827 §6.5, RFC 8842) over OpenSSL 3, sans-IO:
// datagrams and time go in, datagrams, keys and a timer come out. OpenSSL runs over two
// memory BIOs; nothing here touches a socket or a clock.
//
// Timer limitation: OpenSSL's DTLS retransmission timer reads its own (wall) clock, so
// next_timeout() is computed as `now + DTLSv1_get_timeout()` after each call. Calling
// handle_timeout() a little early is harmless (OpenSSL does nothing and the timer is
// re-armed), but a FakeClock cannot make OpenSSL's timer expire: tests need real time.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/srtp_keys.hpp"
#include "common/time.hpp"
#include "dtls/certificate.hpp"

namespace strata::dtls {

enum class Role {
  kClient,  // a=setup:active: we send the ClientHello
  kServer,  // a=setup:passive: we wait for it
};

enum class State { kNew, kConnecting, kConnected, kClosed, kFailed };

const char* to_string(State state);

struct TransportOptions {
  // Largest datagram we emit (DTLS records included, UDP/IP headers excluded). 1200 keeps
  // handshake flights below any realistic path MTU, including TURN and IPv6 overhead.
  size_t mtu = 1200;
  // use_srtp profile list offered/accepted, OpenSSL syntax, most preferred first.
  std::string srtp_profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
  // First retransmission timeout, doubled on each expiry up to max (RFC 6347 §4.2.4.1).
  Duration initial_retransmit_timeout = std::chrono::seconds(1);
  Duration max_retransmit_timeout = std::chrono::seconds(8);
  // Once connected, replace the OpenSSL connection by a RetiredDtls (~40 KB less per
  // transport): for media transports that never send DTLS application data. Alerts stay
  // authenticated both ways and a lost final flight is still answered; application data
  // is refused from then on. Only AES-GCM suites retire; others keep the SSL.
  bool retire_after_handshake = false;
};

class DtlsTransport {
 public:
  struct Counters {
    uint64_t datagrams_in = 0;
    uint64_t datagrams_ignored = 0;  // not DTLS by RFC 7983 demux, or arrived after close
    uint64_t datagrams_out = 0;
    uint64_t retransmit_timeouts = 0;
  };

  // `remote_fingerprint` is the raw digest from the remote a=fingerprint (see
  // parse_fingerprint), `remote_fp_algorithm` its hash name ("sha-256", ...). Invalid
  // arguments (null certificate, unknown algorithm, empty fingerprint) put the transport
  // in kFailed immediately; nothing throws.
  DtlsTransport(std::shared_ptr<const Certificate> cert, Role role, std::string remote_fp_algorithm,
                Bytes remote_fingerprint, TransportOptions options = {});
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // kNew -> kConnecting. The client sends its ClientHello; the server waits. A server that
  // receives a datagram before start() starts implicitly.
  void start(Timestamp now);
  // One UDP payload from the peer (any number of records).
  void handle_datagram(ByteSpan data, Timestamp now);
  // Drives retransmission (DTLSv1_handle_timeout); call when now >= next_timeout().
  void handle_timeout(Timestamp now);
  Timestamp next_timeout() const;  // kNever when no timer runs
  // Datagrams to send now; drain after every call.
  std::vector<Bytes> take_outgoing();
  // Sends close_notify (when connected) and moves to kClosed.
  void close(Timestamp now);

  State state() const;
  const std::string& failure_reason() const;
  bool peer_closed() const;  // close_notify received
  Role role() const;
  // Keys exported with "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2), split by our role; set once
  // kConnected (and kept after close), nullopt before.
  std::optional<SrtpKeys> srtp_keys() const;

  // Application data (DataChannel SCTP, RFC 8261). Returns false unless kConnected or when
  // the payload exceeds the largest DTLS record plaintext.
  bool send_application_data(ByteSpan data, Timestamp now);
  std::vector<Bytes> take_application_data();
  // Largest plaintext that still fits one datagram of `mtu` (DTLS_get_data_mtu); 0 before
  // the cipher is known.
  size_t max_application_data_size() const;

  const Counters& counters() const;
  // The OpenSSL connection was replaced by a RetiredDtls (TransportOptions).
  bool retired() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::dtls
