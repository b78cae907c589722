// The HTTP side of access control (README, "Access control"), shared by nodes and brokers: a
// request's credentials (RFC 6750 §2.1 Authorization: Bearer, §2.3 ?access_token=, a broker's
// ?ticket=) go through an auth::AccessPolicy, and a refusal becomes the response (401/403 with
// the RFC 6750 §3 challenge and the JSON error). Counts what it saw for /metrics.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>

#include "auth/access_policy.hpp"
#include "http/message.hpp"

namespace strata::http {

auth::Credentials credentials_of(const Request& request);
Response denial_response(const auth::Denial& denial);

class AccessGate {
 public:
  // `unix_now`: wall-clock Unix seconds (tokens' exp/nbf, tickets); empty = the system clock.
  explicit AccessGate(auth::AccessPolicy policy = {}, std::function<int64_t()> unix_now = {});

  bool enabled() const { return policy_.enabled(); }
  int64_t unix_now() const { return unix_now_(); }
  // The request's right to `action` on `live` (empty with kAdmin: the whole server) and, for
  // publishing, the host name asked for: a Permit, or the 401/403 to answer.
  std::variant<auth::Permit, Response> check(const Request& request, auth::Action action, const std::string& live,
                                             const std::string& host = "") const;

  // Prometheus text, per action: strata_auth_credentials_total{action,kind} (bearer,
  // access_token, ticket, none) and strata_auth_decisions_total{action,result} (token,
  // ticket, unauthorized, forbidden). Empty when access control is off.
  std::string metrics_text() const;

 private:
  struct Counts {
    std::array<std::atomic<uint64_t>, 4> credentials{};
    std::array<std::atomic<uint64_t>, 4> decisions{};
  };
  void count(auth::Action action, const auth::Credentials& c, const std::variant<auth::Permit, auth::Denial>& r) const;

  auth::AccessPolicy policy_;
  std::function<int64_t()> unix_now_;
  mutable std::array<Counts, 3> counts_{};  // indexed by auth::Action
};

}  // namespace strata::http
