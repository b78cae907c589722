#include "auth/keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>
#include <set>

#include "auth/base64url.hpp"

namespace strata::auth {
namespace {

std::optional<std::string> string_member(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

EVP_PKEY* ec_p256_public_key(const std::string& x, const std::string& y) {
  // Uncompressed point (SEC 1 §2.3.3): 0x04 || X || Y.
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) return nullptr;
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  OSSL_PARAM_BLD_free(bld);
  if (!params) return nullptr;
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!pkey) return nullptr;
  // fromdata does not prove the point is on the curve; an invalid point must be refused
  // at load time, not become a key that verifies nothing (or worse).
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  const bool ok = check && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!ok) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return pkey;
}

bool digest_verify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input, const unsigned char* sig, size_t sig_len) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  if (name == "HS256") return Algorithm::kHS256;
  if (name == "ES256") return Algorithm::kES256;
  if (name == "EdDSA") return Algorithm::kEdDSA;
  return std::nullopt;
}

const char* to_string(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHS256: return "HS256";
    case Algorithm::kES256: return "ES256";
    case Algorithm::kEdDSA: return "EdDSA";
  }
  return "?";
}

void VerifyKey::PkeyFree::operator()(void* p) const { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }

VerifyKey VerifyKey::hmac_sha256(std::string secret) {
  VerifyKey k(Algorithm::kHS256, "");
  k.secret_ = std::move(secret);
  return k;
}

std::optional<VerifyKey> VerifyKey::from_jwk(const nlohmann::json& jwk, std::string* error, bool* unsupported) {
  if (unsupported) *unsupported = false;
  auto fail = [&](std::string why) -> std::optional<VerifyKey> {
    *error = std::move(why);
    return std::nullopt;
  };
  if (!jwk.is_object()) return fail("a key is not a JSON object");
  auto kty = string_member(jwk, "kty");
  auto crv = string_member(jwk, "crv");
  std::string kid = string_member(jwk, "kid").value_or("");
  if (!kty) return fail("key '" + kid + "' has no \"kty\"");
  if (auto use = string_member(jwk, "use"); use && *use != "sig")
    return fail("key '" + kid + "' has \"use\": \"" + *use + "\", not \"sig\"");
  Algorithm alg;
  if (*kty == "EC" && crv == "P-256") {
    alg = Algorithm::kES256;
  } else if (*kty == "OKP" && crv == "Ed25519") {
    alg = Algorithm::kEdDSA;
  } else {
    if (unsupported) *unsupported = true;
    return fail("key '" + kid + "': kty " + *kty + (crv ? " crv " + *crv : "") +
                " is not supported (ES256 on P-256 and EdDSA on Ed25519 are)");
  }
  if (jwk.contains("alg")) {
    auto named = string_member(jwk, "alg");
    if (!named || algorithm_from_name(*named) != alg)
      return fail("key '" + kid + "': \"alg\" does not match its key type (expected " + to_string(alg) + ")");
  }
  if (jwk.contains("d")) return fail("key '" + kid + "' holds a private key (\"d\"); give public keys only");
  auto x = string_member(jwk, "x");
  auto xb = x ? base64url_decode(*x) : std::nullopt;
  if (!xb || xb->size() != 32) return fail("key '" + kid + "': \"x\" must be 32 bytes of base64url");
  VerifyKey key(alg, kid);
  EVP_PKEY* pkey = nullptr;
  if (alg == Algorithm::kES256) {
    auto y = string_member(jwk, "y");
    auto yb = y ? base64url_decode(*y) : std::nullopt;
    if (!yb || yb->size() != 32) return fail("key '" + kid + "': \"y\" must be 32 bytes of base64url");
    pkey = ec_p256_public_key(*xb, *yb);
    if (!pkey) return fail("key '" + kid + "': (x, y) is not a point of P-256");
  } else {
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(xb->data()),
                                       xb->size());
    if (!pkey) return fail("key '" + kid + "': not an Ed25519 public key");
  }
  key.pkey_ = std::shared_ptr<void>(pkey, PkeyFree{});
  return key;
}

bool VerifyKey::verify(std::string_view input, std::string_view signature) const {
  switch (alg_) {
    case Algorithm::kHS256: {
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_len = 0;
      if (!HMAC(EVP_sha256(), secret_.data(), int(secret_.size()), reinterpret_cast<const unsigned char*>(input.data()),
                input.size(), mac, &mac_len))
        return false;
      return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
    }
    case Algorithm::kES256: return verify_es256(input, signature);
    case Algorithm::kEdDSA: return verify_eddsa(input, signature);
  }
  return false;
}

// RFC 7518 §3.4: the JWS signature is R || S, 32 bytes each; OpenSSL verifies DER.
bool VerifyKey::verify_es256(std::string_view input, std::string_view signature) const {
  if (signature.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return false;
  const bool ok = digest_verify(static_cast<EVP_PKEY*>(pkey_.get()), EVP_sha256(), input, der, size_t(der_len));
  OPENSSL_free(der);
  return ok;
}

// RFC 8037 §3.1: Ed25519 signs the JWS signing input itself (no pre-hash).
bool VerifyKey::verify_eddsa(std::string_view input, std::string_view signature) const {
  if (signature.size() != 64) return false;
  return digest_verify(static_cast<EVP_PKEY*>(pkey_.get()), nullptr, input,
                       reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

std::optional<std::vector<VerifyKey>> parse_jwks(std::string_view json, std::string* error,
                                                 std::vector<std::string>* skipped) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    *error = "not a JWK Set: expected {\"keys\": [...]}";
    return std::nullopt;
  }
  std::vector<VerifyKey> keys;
  std::set<std::string> kids;
  for (const auto& jwk : doc["keys"]) {
    std::string why;
    bool unsupported = false;
    auto key = VerifyKey::from_jwk(jwk, &why, &unsupported);
    if (!key) {
      if (!unsupported) {
        *error = why;
        return std::nullopt;
      }
      if (skipped) skipped->push_back(why);
      continue;
    }
    if (!key->kid().empty() && !kids.insert(key->kid()).second) {
      *error = "two keys have kid '" + key->kid() + "'";
      return std::nullopt;
    }
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) {
    *error = "the JWK Set has no ES256 (P-256) or EdDSA (Ed25519) key";
    return std::nullopt;
  }
  return keys;
}

}  // namespace strata::auth
