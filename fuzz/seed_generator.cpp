// Writes the generated seed corpora into tests/data/fuzz/{stun,srtp,dtls,rtp,sfu}/ (the SDP
// seeds are copies of tests/data/sdp/; the RTP seeds named in media_seeds.cpp join the
// hand-made ones there). Run after changing the keys or the wire formats:
//   cmake --build <build> --target strata_fuzz_seedgen && <build>/fuzz/strata_fuzz_seedgen tests/data/fuzz
// Deterministic except for the DTLS ClientHello (random, cookie-free, fresh certificate).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/time.hpp"
#include "dtls/certificate.hpp"
#include "dtls/dtls_transport.hpp"
#include "fuzz_keys.hpp"
#include "seeds.hpp"
#include "srtp/srtp_session.hpp"
#include "stun/builder.hpp"
#include "stun/rfc5769_vectors.hpp"

namespace {

using namespace strata;
namespace fs = std::filesystem;

void write(const fs::path& dir, const std::string& name, ByteSpan bytes) { fuzz::write_seed(dir, name, bytes); }

void stun_seeds(const fs::path& dir) {
  write(dir, "rfc5769_request.bin", stun::testing::rfc5769_request());
  write(dir, "rfc5769_ipv4_response.bin", stun::testing::rfc5769_ipv4_response());
  write(dir, "rfc5769_ipv6_response.bin", stun::testing::rfc5769_ipv6_response());
  // Chrome-like nominating check for the fuzz agent's credentials (see stun_target.cpp).
  const stun::TransactionId tid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  write(dir, "binding_use_candidate.bin",
        stun::MessageBuilder::binding_request(tid)
            .add_username("evtj:h6vY")
            .add_priority(0x6e0001ff)
            .add_ice_controlling(0x932ff9b151263b36ull)
            .add_use_candidate()
            .finish(std::string_view(stun::testing::kRfc5769Password)));
  // Peer claiming the controlled role too: the agent answers 487 (RFC 8445 §7.3.1.1).
  write(dir, "binding_role_conflict.bin",
        stun::MessageBuilder::binding_request(tid)
            .add_username("evtj:h6vY")
            .add_ice_controlled(7)
            .finish(std::string_view(stun::testing::kRfc5769Password)));
  write(dir, "binding_error_487.bin",
        stun::MessageBuilder::binding_error(tid).add_error_code(487, "Role Conflict").finish(std::nullopt));
}

Bytes rtp_packet(uint32_t ssrc, uint16_t seq, uint8_t csrcs, uint16_t ext_words, size_t payload, std::mt19937& rng) {
  Bytes p;
  ByteWriter w(p);
  w.u8(uint8_t(0x80 | (ext_words ? 0x10 : 0) | csrcs));
  w.u8(96);
  w.u16(seq);
  w.u32(uint32_t(seq) * 3000u);
  w.u32(ssrc);
  for (uint8_t i = 0; i < csrcs; ++i) w.u32(0xc0000000u + i);
  if (ext_words) {
    w.u16(0xBEDE);  // one-byte header extensions (RFC 8285 §4.2)
    w.u16(ext_words);
    for (uint16_t i = 0; i < ext_words; ++i) w.u32(rng());
  }
  for (size_t i = 0; i < payload; ++i) w.u8(uint8_t(rng()));
  return p;
}

Bytes rtcp_sender_report(uint32_t ssrc, std::mt19937& rng) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x80);
  w.u8(200);
  w.u16(6);
  w.u32(ssrc);
  for (int i = 0; i < 5; ++i) w.u32(rng());  // NTP, RTP timestamp, counts
  return p;
}

void srtp_seeds(const fs::path& dir) {
  std::mt19937 rng(5764);
  for (SrtpProfile profile : {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmHmacSha1_80}) {
    const std::string tag = profile == SrtpProfile::kAeadAes128Gcm ? "gcm" : "cm";
    auto tx = srtp::SrtpSession::create(profile, fuzz::fuzz_master_key(), fuzz::fuzz_master_salt(profile));
    struct Shape { const char* name; uint8_t csrcs; uint16_t ext_words; size_t payload; };
    for (Shape s : {Shape{"plain", 0, 0, 160}, Shape{"csrc_ext", 2, 3, 80}, Shape{"empty_payload", 0, 1, 0}}) {
      Bytes p = rtp_packet(0x11223344, 1000, s.csrcs, s.ext_words, s.payload, rng);
      size_t len = p.size();
      if (tag == "gcm" && std::string(s.name) == "plain") write(dir, "plaintext_rtp.bin", p);
      p.resize(len + kSrtpMaxTrailer);
      tx->protect_rtp(p.data(), len, p.size(), &len);
      p.resize(len);
      write(dir, "srtp_" + tag + "_" + s.name + ".bin", p);
    }
    Bytes sr = rtcp_sender_report(0x11223344, rng);
    size_t len = sr.size();
    if (tag == "gcm") write(dir, "plaintext_rtcp_sr.bin", sr);
    sr.resize(len + kSrtpMaxTrailer);
    tx->protect_rtcp(sr.data(), len, sr.size(), &len);
    sr.resize(len);
    write(dir, "srtcp_" + tag + "_sr.bin", sr);
  }
}

// The first flight of a real client: the ClientHello our server must parse.
void dtls_seeds(const fs::path& dir) {
  auto cert = dtls::Certificate::generate();
  dtls::DtlsTransport client(cert, dtls::Role::kClient, "sha-256", Bytes(32, 0x5a));
  client.start(FakeClock().now());
  int n = 0;
  for (const Bytes& d : client.take_outgoing()) write(dir, "client_hello_" + std::to_string(n++) + ".bin", d);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/data/fuzz>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  stun_seeds(root / "stun");
  srtp_seeds(root / "srtp");
  dtls_seeds(root / "dtls");
  fuzz::rtp_seeds(root / "rtp");
  fuzz::sfu_seeds(root / "sfu");
  return 0;
}
