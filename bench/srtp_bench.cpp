// protect_rtp cost per 1200-byte packet, ours vs libsrtp2, for both profiles; plus the
// HMAC-SHA1 strategies considered for the AES-CM profile (precomputed SHA-1 states vs
// re-initialising a keyed EVP_MAC context per packet).
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/srtp.h>

#include "srtp/srtp_session.hpp"

namespace {

using strata::Bytes;
using strata::SrtpProfile;

constexpr size_t kPacketSize = 1200;

Bytes make_packet() {
  Bytes p(kPacketSize + 64, 0xab);
  p[0] = 0x80;
  p[1] = 96;
  strata::store_be32(&p[8], 0x12345678);
  return p;
}

Bytes key_for(SrtpProfile p) { return Bytes(strata::srtp_key_length(p), 0x5a); }
Bytes salt_for(SrtpProfile p) { return Bytes(strata::srtp_salt_length(p), 0xa5); }

void BM_ProtectRtp_Strata(benchmark::State& state, SrtpProfile profile) {
  auto session = strata::srtp::SrtpSession::create(profile, key_for(profile), salt_for(profile));
  Bytes buf = make_packet();
  uint16_t seq = 0;
  size_t out = 0;
  for (auto _ : state) {
    // The header is never encrypted, so the same buffer can be protected again.
    strata::store_be16(&buf[2], seq++);
    auto st = session->protect_rtp(buf.data(), kPacketSize, buf.size(), &out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kPacketSize);
}

void BM_ProtectRtp_Libsrtp(benchmark::State& state, SrtpProfile profile) {
  srtp_init();
  Bytes key_salt = key_for(profile);
  Bytes salt = salt_for(profile);
  key_salt.insert(key_salt.end(), salt.begin(), salt.end());
  srtp_policy_t policy{};
  if (profile == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = ssrc_any_outbound;
  policy.key = key_salt.data();
  policy.allow_repeat_tx = 1;
  srtp_t ctx = nullptr;
  if (srtp_create(&ctx, &policy) != srtp_err_status_ok) {
    state.SkipWithError("srtp_create failed");
    return;
  }
  Bytes buf = make_packet();
  uint16_t seq = 0;
  for (auto _ : state) {
    strata::store_be16(&buf[2], seq++);
    int len = int(kPacketSize);
    auto st = srtp_protect(ctx, buf.data(), &len);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kPacketSize);
  srtp_dealloc(ctx);
}

BENCHMARK_CAPTURE(BM_ProtectRtp_Strata, AeadAes128Gcm, SrtpProfile::kAeadAes128Gcm);
BENCHMARK_CAPTURE(BM_ProtectRtp_Libsrtp, AeadAes128Gcm, SrtpProfile::kAeadAes128Gcm);
BENCHMARK_CAPTURE(BM_ProtectRtp_Strata, Aes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_80);
BENCHMARK_CAPTURE(BM_ProtectRtp_Libsrtp, Aes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_80);

// --- HMAC-SHA1 over a 1200-byte packet + ROC: which keyed-state strategy is fastest.

void BM_HmacSha1_PrecomputedStates(benchmark::State& state) {
  strata::srtp::HmacSha1 mac;
  mac.set_key(Bytes(20, 0x42));
  Bytes data(kPacketSize, 0x33);
  uint8_t roc[4] = {}, out[20];
  for (auto _ : state) {
    mac.compute(data.data(), data.size(), roc, 4, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_HmacSha1_PrecomputedStates);

EVP_MAC_CTX* new_hmac_ctx(const Bytes& key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);
  char digest[] = "SHA1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx, key.data(), key.size(), params);
  return ctx;
}

// Keyed once; per packet EVP_MAC_init with a NULL key reuses the key.
void BM_HmacSha1_EvpMacReinit(benchmark::State& state) {
  EVP_MAC_CTX* ctx = new_hmac_ctx(Bytes(20, 0x42));
  Bytes data(kPacketSize, 0x33);
  uint8_t roc[4] = {}, out[20];
  size_t out_len = 0;
  for (auto _ : state) {
    EVP_MAC_init(ctx, nullptr, 0, nullptr);
    EVP_MAC_update(ctx, data.data(), data.size());
    EVP_MAC_update(ctx, roc, 4);
    EVP_MAC_final(ctx, out, &out_len, sizeof(out));
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(ctx);
}
BENCHMARK(BM_HmacSha1_EvpMacReinit);

// Keyed template duplicated per packet (allocates).
void BM_HmacSha1_EvpMacDup(benchmark::State& state) {
  EVP_MAC_CTX* keyed = new_hmac_ctx(Bytes(20, 0x42));
  Bytes data(kPacketSize, 0x33);
  uint8_t roc[4] = {}, out[20];
  size_t out_len = 0;
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    EVP_MAC_update(ctx, data.data(), data.size());
    EVP_MAC_update(ctx, roc, 4);
    EVP_MAC_final(ctx, out, &out_len, sizeof(out));
    EVP_MAC_CTX_free(ctx);
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(keyed);
}
BENCHMARK(BM_HmacSha1_EvpMacDup);

}  // namespace
