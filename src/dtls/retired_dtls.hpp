// What a media transport keeps of a DTLS 1.2 connection once the handshake is done.
//
// DTLS-SRTP uses DTLS only to agree on keys (RFC 5764): after the handshake, media flows as
// SRTP beside it and, without a DataChannel, no DTLS application data is ever sent. Yet an
// OpenSSL connection keeps ~40 KB per viewer (the handshake buffer that DTLS never frees,
// the session with the peer's parsed certificate, record contexts). This object replaces it
// with what the rest of the connection's life needs, about 100 bytes:
//  - the epoch-1 record keys (TLS 1.2 key block, RFC 5246 §6.3) of an AES-GCM suite
//    (RFC 5288), to authenticate the peer's alerts (close_notify, fatal) and to send ours;
//  - the server's final flight (ChangeCipherSpec + Finished), sent again when the peer
//    retransmits its own flight because ours was lost (RFC 6347 §4.2.4).
// Records of any other kind are ignored, as OpenSSL ignores them after the handshake.
// Sans-IO: datagrams in, datagrams out, no clock needed.
#pragma once
#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace strata::dtls {

class RetiredDtls {
 public:
  // RFC 5246 §7.2: the alert levels and the one description handled specially.
  enum class PeerAlert { kNone, kCloseNotify, kFatal };
  struct Counters {
    uint64_t flights_resent = 0;
    uint64_t records_ignored = 0;  // other types, other epochs
    uint64_t alerts_forged = 0;    // failed authentication
  };

  // From a connected SSL. nullopt unless the suite is AES-128/256-GCM (the ones our
  // context prefers; any client that offers them gets one) or on OpenSSL failure: the
  // caller then keeps the SSL. `final_flight`: the server's last flight as sent (empty for
  // a client, whose last flight the server acknowledged with its Finished).
  static std::optional<RetiredDtls> from(SSL* ssl, bool server, std::vector<Bytes> final_flight);

  // One UDP payload from the peer. Returns the authenticated alert it carried, if any;
  // appends to `out` what to send (the final flight again).
  PeerAlert handle_datagram(ByteSpan data, std::vector<Bytes>& out);
  // Our close_notify (RFC 5246 §7.2.1) as one encrypted epoch-1 record.
  Bytes close_notify();
  uint8_t last_alert_description() const { return last_alert_description_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Direction {
    uint8_t key[32] = {};
    uint8_t salt[4] = {};  // the implicit part of the GCM nonce (RFC 5288 §3)
  };
  RetiredDtls() = default;
  std::optional<Bytes> open_record(ByteSpan record) const;
  Bytes seal_record(uint8_t type, ByteSpan plaintext);

  size_t key_len_ = 16;
  Direction read_, write_;
  std::vector<Bytes> final_flight_;
  bool resent_for_this_datagram_ = false;
  // Our epoch-1 sequence numbers start far above the few OpenSSL used in the handshake, so
  // no (epoch, sequence) and no explicit nonce is ever used twice (RFC 6347 §4.1).
  uint64_t next_write_seq_ = 1u << 20;
  uint8_t last_alert_description_ = 0;
  Counters counters_;
};

}  // namespace strata::dtls
