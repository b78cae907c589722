#include "dtls/retired_dtls.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstring>
#include <memory>

namespace strata::dtls {
namespace {

// RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2).
constexpr size_t kHeader = 13;
constexpr uint8_t kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22;
constexpr uint16_t kDtls12 = 0xFEFD;
// RFC 5288 §3: nonce_explicit(8) before the ciphertext, a 16-byte tag after it.
constexpr size_t kExplicitNonce = 8, kTag = 16;
constexpr uint8_t kWarning = 1, kFatal = 2, kCloseNotifyDescription = 0;

struct CipherCtxFree { void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); } };
struct KdfCtxFree { void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); } };

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// TLS 1.2 PRF(master_secret, "key expansion", server_random + client_random) (RFC 5246 §6.3).
bool key_block(SSL* ssl, const EVP_MD* md, uint8_t* out, size_t len) {
  uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
  const size_t master_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof master);
  uint8_t seed[13 + 2 * SSL3_RANDOM_SIZE];
  std::memcpy(seed, "key expansion", 13);
  if (master_len == 0 || SSL_get_server_random(ssl, seed + 13, SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE ||
      SSL_get_client_random(ssl, seed + 13 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE)
    return false;
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_TLS1_PRF, nullptr);
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(kdf ? EVP_KDF_CTX_new(kdf) : nullptr);
  EVP_KDF_free(kdf);
  if (!ctx) return false;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
      OSSL_PARAM_construct_end()};
  const bool ok = EVP_KDF_derive(ctx.get(), out, len, params) == 1;
  OPENSSL_cleanse(master, sizeof master);
  return ok;
}

// RFC 5246 §6.2.3.3 with DTLS's 64-bit epoch||sequence_number (RFC 6347 §4.1.2.1).
void additional_data(const uint8_t* header, size_t plaintext_len, uint8_t aad[13]) {
  std::memcpy(aad, header + 3, 8);       // epoch + sequence number
  std::memcpy(aad + 8, header, 3);       // type + version
  aad[11] = uint8_t(plaintext_len >> 8);
  aad[12] = uint8_t(plaintext_len);
}

const EVP_CIPHER* gcm(size_t key_len) { return key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(); }

}  // namespace

std::optional<RetiredDtls> RetiredDtls::from(SSL* ssl, bool server, std::vector<Bytes> final_flight) {
  const SSL_CIPHER* cipher = ssl ? SSL_get_current_cipher(ssl) : nullptr;
  if (!cipher || SSL_version(ssl) != DTLS1_2_VERSION) return std::nullopt;
  const int nid = SSL_CIPHER_get_cipher_nid(cipher);
  if (nid != NID_aes_128_gcm && nid != NID_aes_256_gcm) return std::nullopt;
  const EVP_MD* md = SSL_CIPHER_get_handshake_digest(cipher);
  if (!md) return std::nullopt;
  RetiredDtls r;
  r.key_len_ = nid == NID_aes_256_gcm ? 32 : 16;
  // Key block of a GCM suite: client key, server key, client salt, server salt (no MAC keys).
  uint8_t block[2 * 32 + 2 * 4];
  const size_t k = r.key_len_;
  if (!key_block(ssl, md, block, 2 * k + 8)) return std::nullopt;
  Direction client, server_dir;
  std::memcpy(client.key, block, k);
  std::memcpy(server_dir.key, block + k, k);
  std::memcpy(client.salt, block + 2 * k, 4);
  std::memcpy(server_dir.salt, block + 2 * k + 4, 4);
  OPENSSL_cleanse(block, sizeof block);
  r.read_ = server ? client : server_dir;
  r.write_ = server ? server_dir : client;
  OPENSSL_cleanse(&client, sizeof client);
  OPENSSL_cleanse(&server_dir, sizeof server_dir);
  r.final_flight_ = std::move(final_flight);
  return r;
}

RetiredDtls::PeerAlert RetiredDtls::handle_datagram(ByteSpan data, std::vector<Bytes>& out) {
  resent_for_this_datagram_ = false;
  while (data.size() >= kHeader) {
    const size_t len = be16(data.data() + 11);
    if (data.size() < kHeader + len) break;  // truncated: the rest is not a record
    const ByteSpan record = data.first(kHeader + len);
    data = data.subspan(kHeader + len);
    const uint8_t type = record[0];
    const uint16_t epoch = be16(record.data() + 3);
    if (type == kHandshake || type == kChangeCipherSpec) {
      // The peer did not get our final flight and sends its own again.
      if (!final_flight_.empty() && !resent_for_this_datagram_) {
        resent_for_this_datagram_ = true;
        ++counters_.flights_resent;
        out.insert(out.end(), final_flight_.begin(), final_flight_.end());
      }
      continue;
    }
    if (type != kAlert || epoch != 1) {
      ++counters_.records_ignored;
      continue;
    }
    std::optional<Bytes> alert = open_record(record);
    if (!alert || alert->size() != 2) {
      ++counters_.alerts_forged;
      continue;
    }
    last_alert_description_ = (*alert)[1];
    if ((*alert)[0] == kFatal) return PeerAlert::kFatal;
    if ((*alert)[1] == kCloseNotifyDescription) return PeerAlert::kCloseNotify;
  }
  return PeerAlert::kNone;
}

Bytes RetiredDtls::close_notify() {
  const uint8_t alert[2] = {kWarning, kCloseNotifyDescription};
  return seal_record(kAlert, ByteSpan(alert, 2));
}

std::optional<Bytes> RetiredDtls::open_record(ByteSpan record) const {
  if (record.size() < kHeader + kExplicitNonce + kTag || be16(record.data() + 1) != kDtls12) return std::nullopt;
  const uint8_t* header = record.data();
  const uint8_t* nonce_explicit = header + kHeader;
  const size_t plaintext_len = record.size() - kHeader - kExplicitNonce - kTag;
  const uint8_t* ciphertext = nonce_explicit + kExplicitNonce;
  uint8_t nonce[12], aad[13];
  std::memcpy(nonce, read_.salt, 4);
  std::memcpy(nonce + 4, nonce_explicit, kExplicitNonce);
  additional_data(header, plaintext_len, aad);
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  Bytes plaintext(plaintext_len);
  int n = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), gcm(key_len_), nullptr, read_.key, nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad, sizeof aad) != 1 ||
      (plaintext_len && EVP_DecryptUpdate(ctx.get(), plaintext.data(), &n, ciphertext, int(plaintext_len)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTag),
                          const_cast<uint8_t*>(ciphertext + plaintext_len)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + plaintext_len, &n) != 1)
    return std::nullopt;
  return plaintext;
}

Bytes RetiredDtls::seal_record(uint8_t type, ByteSpan plaintext) {
  const uint64_t seq = next_write_seq_++;
  Bytes record(kHeader + kExplicitNonce + plaintext.size() + kTag);
  uint8_t* h = record.data();
  h[0] = type;
  h[1] = uint8_t(kDtls12 >> 8);
  h[2] = uint8_t(kDtls12);
  const uint64_t epoch_seq = (uint64_t(1) << 48) | seq;  // epoch 1
  for (int i = 0; i < 8; ++i) h[3 + i] = uint8_t(epoch_seq >> (56 - 8 * i));
  const size_t fragment = kExplicitNonce + plaintext.size() + kTag;
  h[11] = uint8_t(fragment >> 8);
  h[12] = uint8_t(fragment);
  // The explicit nonce is the record's epoch||sequence, as OpenSSL and BoringSSL do.
  std::memcpy(h + kHeader, h + 3, kExplicitNonce);
  uint8_t nonce[12], aad[13];
  std::memcpy(nonce, write_.salt, 4);
  std::memcpy(nonce + 4, h + 3, kExplicitNonce);
  additional_data(h, plaintext.size(), aad);
  uint8_t* ciphertext = h + kHeader + kExplicitNonce;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), gcm(key_len_), nullptr, write_.key, nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad, sizeof aad) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &n, plaintext.data(), int(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTag), ciphertext + plaintext.size()) != 1)
    return {};
  return record;
}

}  // namespace strata::dtls
