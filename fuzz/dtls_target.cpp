// DTLS fuzz body: a fresh server-role DtlsTransport gets the input as a datagram (twice, as
// a retransmitted flight would arrive), runs its timer and closes; a connected server that
// retired its OpenSSL connection (RetiredDtls) gets it too and must stay connected (an
// alert that closes it needs the record keys); then the record packer splits the input at
// several MTUs and must neither lose nor reorder a byte.
#include <algorithm>
#include <memory>
#include <vector>

#include "common/time.hpp"
#include "dtls/certificate.hpp"
#include "dtls/datagram_packer.hpp"
#include "dtls/dtls_transport.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

volatile size_t g_sink = 0;

// ECDSA key generation is far slower than one handshake step: make it once per process.
const std::shared_ptr<const dtls::Certificate>& server_certificate() {
  static const auto cert = dtls::Certificate::generate();
  return cert;
}

// One handshake per process: a client and a retiring server, datagrams moved until both
// are connected.
dtls::DtlsTransport& retired_server() {
  static const auto client_cert = dtls::Certificate::generate();
  static dtls::DtlsTransport client(client_cert, dtls::Role::kClient, "sha-256",
                                    *dtls::digest_of(server_certificate()->x509(), "sha-256"));
  static dtls::DtlsTransport server(server_certificate(), dtls::Role::kServer, "sha-256",
                                    *dtls::digest_of(client_cert->x509(), "sha-256"),
                                    dtls::TransportOptions{.retire_after_handshake = true});
  static const bool connected = [] {
    const Timestamp now = FakeClock().now();
    client.start(now);
    server.start(now);
    for (int i = 0; i < 20; ++i) {
      for (const Bytes& d : client.take_outgoing()) server.handle_datagram(d, now);
      for (const Bytes& d : server.take_outgoing()) client.handle_datagram(d, now);
    }
    return client.state() == dtls::State::kConnected && server.retired();
  }();
  STRATA_FUZZ_CHECK("dtls", connected);
  return server;
}

void exercise_retired(ByteSpan datagram) {
  dtls::DtlsTransport& server = retired_server();
  server.handle_datagram(datagram, FakeClock().now());
  size_t sum = 0;
  for (const Bytes& d : server.take_outgoing()) sum += d.size();
  STRATA_FUZZ_CHECK("dtls", server.state() == dtls::State::kConnected && !server.peer_closed());
  g_sink = g_sink + sum;
}

void exercise_server(ByteSpan datagram) {
  const auto& cert = server_certificate();
  STRATA_FUZZ_CHECK("dtls", cert != nullptr);
  // Any 32-byte digest: the handshake can never complete from one side's bytes anyway.
  dtls::DtlsTransport server(cert, dtls::Role::kServer, "sha-256", Bytes(32, 0x5a));
  Timestamp now = FakeClock().now();
  server.start(now);
  size_t sum = 0;
  for (int i = 0; i < 2; ++i) {
    server.handle_datagram(datagram, now);
    for (const Bytes& d : server.take_outgoing()) sum += d.size();
    for (const Bytes& d : server.take_application_data()) sum += d.size();
    now += std::chrono::seconds(2);
    server.handle_timeout(now);
    for (const Bytes& d : server.take_outgoing()) sum += d.size();
  }
  sum += size_t(server.state()) + server.failure_reason().size() + server.peer_closed() +
         server.srtp_keys().has_value() + server.max_application_data_size() + server.counters().datagrams_in;
  server.close(now);
  for (const Bytes& d : server.take_outgoing()) sum += d.size();
  g_sink = g_sink + sum;
}

// Size of the record (or truncated tail) that starts a datagram; mirrors RFC 6347 §4.1.
size_t first_record_size(const Bytes& d) {
  if (d.size() < dtls::kDtlsRecordHeaderSize) return d.size();
  size_t size = dtls::kDtlsRecordHeaderSize + load_be16(d.data() + 11);
  return size <= d.size() ? size : d.size();
}

void exercise_packer(ByteSpan records) {
  for (size_t mtu : {size_t(0), size_t(13), size_t(100), size_t(1200)}) {
    std::vector<Bytes> out;
    dtls::pack_records_into_datagrams(records, mtu, out);
    Bytes joined;
    for (const Bytes& d : out) {
      STRATA_FUZZ_CHECK("dtls", !d.empty());
      // Only a single record larger than the MTU may exceed it.
      STRATA_FUZZ_CHECK("dtls", d.size() <= mtu || first_record_size(d) == d.size());
      joined.insert(joined.end(), d.begin(), d.end());
    }
    STRATA_FUZZ_CHECK("dtls", joined.size() == records.size());
    STRATA_FUZZ_CHECK("dtls", std::equal(joined.begin(), joined.end(), records.begin()));
  }
}

}  // namespace

int dtls_one_input(const uint8_t* data, size_t size) {
  // Exact-size heap copy so ASan catches any read past the end.
  const std::vector<uint8_t> buf(data, data + size);
  const ByteSpan span(buf.data(), buf.size());
  g_sink = g_sink + dtls::looks_like_dtls(span);
  exercise_server(span);
  exercise_retired(span);
  exercise_packer(span);
  return 0;
}

}  // namespace strata::fuzz
