#include "auth/ticket.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "auth/base64url.hpp"

namespace strata::auth {
namespace {

constexpr std::string_view kKeyLabel = "strata redirect ticket v1";
constexpr size_t kMaxTicketBytes = 1024;

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

TicketSigner::TicketSigner(std::string_view cluster_secret) : key_(hmac_sha256(cluster_secret, kKeyLabel)) {}

std::string TicketSigner::mac(std::string_view data) const { return hmac_sha256(key_, data); }

std::string TicketSigner::issue(const Ticket& t) const {
  nlohmann::json payload = {{"act", to_string(t.action)}, {"live", t.live}, {"node", t.node}, {"exp", t.expires_at}};
  if (!t.host.empty()) payload["host"] = t.host;
  if (!t.subject.empty()) payload["sub"] = t.subject;
  std::string body = base64url_encode(payload.dump());
  return body + "." + base64url_encode(mac(body));
}

std::variant<Ticket, std::string> TicketSigner::verify(std::string_view text, int64_t now) const {
  if (text.size() > kMaxTicketBytes) return std::string("the ticket is too long");
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::string("the ticket is malformed");
  auto sig = base64url_decode(text.substr(dot + 1));
  const std::string expected = mac(text.substr(0, dot));
  if (!sig || sig->size() != expected.size() || CRYPTO_memcmp(sig->data(), expected.data(), expected.size()) != 0)
    return std::string("the ticket's signature does not verify");
  auto bytes = base64url_decode(text.substr(0, dot));
  auto payload = bytes ? nlohmann::json::parse(*bytes, nullptr, false) : nlohmann::json();
  if (!payload.is_object()) return std::string("the ticket is malformed");
  auto str = [&](const char* key) {
    auto it = payload.find(key);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto exp = payload.find("exp");
  auto action = action_from_name(str("act"));
  if (exp == payload.end() || !exp->is_number_integer() || !action) return std::string("the ticket is malformed");
  Ticket t;
  t.action = *action;
  t.live = str("live");
  t.host = str("host");
  t.node = str("node");
  t.subject = str("sub");
  t.expires_at = exp->get<int64_t>();
  if (now >= t.expires_at) return std::string("the ticket expired; ask the broker again");
  return t;
}

}  // namespace strata::auth
