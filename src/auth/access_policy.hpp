// Who may do what (README, "Access control"): the decision for one request, from the
// credentials it carries (an access token in Authorization: Bearer or ?access_token=, or a
// broker's ?ticket=) and what it asks (publish/view a live, admin). Sans-IO: the caller
// passes the time and renders the answer (401 + WWW-Authenticate, 403, or go ahead).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "auth/grant.hpp"
#include "auth/ticket.hpp"
#include "auth/verifier.hpp"

namespace strata::auth {

struct Credentials {
  std::optional<std::string> authorization;  // the Authorization header, as sent
  std::optional<std::string> access_token;   // ?access_token= (RFC 6750 §2.3)
  std::optional<std::string> ticket;         // ?ticket= (a broker's redirect)
};

struct AccessRequest {
  Action action = Action::kView;
  // The live asked for. Empty with kAdmin: the whole server (lists, metrics), which needs
  // an admin grant for every live ("live": "*").
  std::string live;
  std::string host;  // kPublish: the ?host= asked for, empty when none
};

struct Permit {
  std::string subject;  // who (empty with auth off or an anonymous ticket)
  // kPublish: the host name to publish as: the token's "sub" when it pins one, else the
  // request's (empty: the caller's default).
  std::string host;
  bool by_ticket = false;  // admitted by a broker's ticket (else by a token, or auth is off)
};

struct Denial {
  int status = 401;              // 401: no valid credentials; 403: valid, not allowed
  std::string error;             // machine-readable code for the JSON body
  std::string detail;            // for people
  std::string www_authenticate;  // RFC 6750 §3 challenge (401 and 403)
};

class AccessPolicy {
 public:
  // Off: every request is permitted.
  AccessPolicy() = default;
  // On. `tickets` (may be null) accepts the broker's tickets issued for `node_id`.
  AccessPolicy(std::shared_ptr<const TokenVerifier> tokens, std::shared_ptr<const TicketSigner> tickets,
               std::string node_id);

  bool enabled() const { return tokens_ != nullptr; }
  std::variant<Permit, Denial> check(const AccessRequest& request, const Credentials& credentials,
                                     int64_t now_unix_seconds) const;

 private:
  std::variant<Permit, Denial> check_ticket(const AccessRequest& request, const std::string& text, int64_t now) const;
  std::variant<Permit, Denial> check_grant(const AccessRequest& request, const Grant& grant) const;

  std::shared_ptr<const TokenVerifier> tokens_;
  std::shared_ptr<const TicketSigner> tickets_;
  std::string node_id_;
};

// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1: the scheme is
// case-insensitive); nullopt for another scheme or an empty token.
std::optional<std::string> bearer_token(const std::string& authorization);

}  // namespace strata::auth
