// A broker's redirect ticket (README, "Access control"): browsers drop Authorization when
// they follow a redirect to another origin (Fetch standard, "HTTP-redirect fetch"), so the
// broker, having checked the client's token, puts a short-lived ticket in the Location it
// answers. The ticket names the live, the action, the node it was issued for and (publish)
// the host name, and is signed with a key derived from the cluster secret, which only
// brokers and nodes hold.
//
// Form: base64url(JSON payload) '.' base64url(HMAC-SHA256(K, that first segment)), with
// K = HMAC-SHA256(cluster secret, "strata redirect ticket v1"): a key of its own, so no
// other use of the cluster secret (relay requests) and no access token can pass as a
// ticket.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "auth/grant.hpp"

namespace strata::auth {

// Long enough for a client to follow a redirect, short enough that a ticket seen in a log
// is useless by the time anyone reads it.
inline constexpr int64_t kTicketLifetimeSeconds = 30;

struct Ticket {
  Action action = Action::kView;
  std::string live;
  std::string host;     // publish: the host name the broker allowed; empty for view
  std::string node;     // the node id the ticket is for
  std::string subject;  // the token's "sub", for the node's logs
  int64_t expires_at = 0;  // Unix seconds
};

class TicketSigner {
 public:
  explicit TicketSigner(std::string_view cluster_secret);

  std::string issue(const Ticket& ticket) const;
  // The ticket, if its signature holds and it has not expired; else what is wrong.
  std::variant<Ticket, std::string> verify(std::string_view text, int64_t now_unix_seconds) const;

 private:
  std::string mac(std::string_view data) const;
  std::string key_;
};

}  // namespace strata::auth
