#include "auth/access_policy.hpp"

#include "room/room_types.hpp"

namespace strata::auth {
namespace {

constexpr const char* kRealm = "Bearer realm=\"strata\"";

// RFC 6750 §3: error_description is a quoted-string of printable ASCII without '"' or '\'.
std::string quoted(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += c;
  }
  return out;
}

Denial unauthorized(std::string error, std::string detail) {
  Denial d{401, std::move(error), std::move(detail), ""};
  d.www_authenticate = std::string(kRealm) + ", error=\"invalid_token\", error_description=\"" + quoted(d.detail) + "\"";
  return d;
}

Denial forbidden(std::string detail) {
  Denial d{403, "forbidden", std::move(detail), ""};
  d.www_authenticate = std::string(kRealm) + ", error=\"insufficient_scope\", error_description=\"" + quoted(d.detail) + "\"";
  return d;
}

const char* token_error_code(TokenError e) {
  switch (e) {
    case TokenError::kExpired: return "token-expired";
    case TokenError::kNotYetValid: return "token-not-yet-valid";
    default: return "invalid-token";
  }
}

}  // namespace

std::optional<std::string> bearer_token(const std::string& authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  }
  std::string token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty()) return std::nullopt;
  return token;
}

AccessPolicy::AccessPolicy(std::shared_ptr<const TokenVerifier> tokens, std::shared_ptr<const TicketSigner> tickets,
                           std::string node_id)
    : tokens_(std::move(tokens)), tickets_(std::move(tickets)), node_id_(std::move(node_id)) {}

std::variant<Permit, Denial> AccessPolicy::check(const AccessRequest& request, const Credentials& credentials,
                                                 int64_t now) const {
  if (!enabled()) return Permit{"", request.host};
  // A ticket is tried first: it is what a client following a broker's redirect carries
  // (Location may also repeat the client's ?access_token=, which the node then checks).
  std::optional<Denial> ticket_denial;
  if (credentials.ticket && tickets_ && request.action != Action::kAdmin) {
    auto result = check_ticket(request, *credentials.ticket, now);
    if (std::holds_alternative<Permit>(result)) return result;
    ticket_denial = std::get<Denial>(std::move(result));
  }
  std::optional<std::string> token;
  if (credentials.authorization) {
    token = bearer_token(*credentials.authorization);
    if (!token) return ticket_denial ? *ticket_denial : unauthorized("invalid-token", "Authorization must be 'Bearer <token>'");
  } else if (credentials.access_token) {
    token = *credentials.access_token;
  }
  if (!token) {
    if (ticket_denial) return *ticket_denial;
    Denial d{401, "auth-required", "this server needs an access token: Authorization: Bearer <JWT> or ?access_token=", ""};
    d.www_authenticate = kRealm;
    return d;
  }
  auto verified = tokens_->verify(*token, now);
  if (auto* f = std::get_if<TokenFailure>(&verified)) return unauthorized(token_error_code(f->error), f->detail);
  return check_grant(request, std::get<Grant>(verified));
}

std::variant<Permit, Denial> AccessPolicy::check_ticket(const AccessRequest& request, const std::string& text,
                                                        int64_t now) const {
  auto verified = tickets_->verify(text, now);
  if (auto* why = std::get_if<std::string>(&verified)) return unauthorized("invalid-ticket", *why);
  const Ticket& t = std::get<Ticket>(verified);
  if (t.node != node_id_) return unauthorized("invalid-ticket", "the ticket was issued for another node");
  if (t.action != request.action || t.live != request.live)
    return forbidden(std::string("the ticket is for ") + to_string(t.action) + " of live '" + t.live + "'");
  // A publish ticket names the one host it admits (the broker's default "host" included).
  if (request.action == Action::kPublish && !request.host.empty() && request.host != t.host)
    return forbidden("the ticket is for host '" + t.host + "'");
  return Permit{t.subject, request.action == Action::kPublish ? t.host : request.host, /*by_ticket=*/true};
}

std::variant<Permit, Denial> AccessPolicy::check_grant(const AccessRequest& request, const Grant& g) const {
  if (request.live.empty()) {  // admin of the whole server
    if (g.admin && g.covers_every_live()) return Permit{g.subject, ""};
    return forbidden(g.admin ? "this token administers lives '" + g.live + "', not the whole server (\"live\": \"*\")"
                             : "this token has no admin grant");
  }
  if (!g.allows(request.action)) return forbidden(std::string("this token has no ") + to_string(request.action) + " grant");
  if (!g.covers_live(request.live))
    return forbidden("this token covers lives '" + g.live + "', not '" + request.live + "'");
  if (request.action != Action::kPublish || g.subject.empty()) return Permit{g.subject, request.host};
  // A publish token with a subject pins the host name to it.
  if (!room::valid_host_name(g.subject))
    return forbidden("this token's \"sub\" is not a host name ([A-Za-z0-9_-]{1,64}), so it cannot publish");
  if (!request.host.empty() && request.host != g.subject)
    return forbidden("this token publishes as host '" + g.subject + "' only");
  return Permit{g.subject, g.subject};
}

}  // namespace strata::auth
