// Per-client admission of new sessions (README, "Limits"): a token bucket per client
// address (rate and burst) and a cap on the sessions one client holds at once. A client is
// an IPv4 address or an IPv6 /64 (one subscriber's prefix: a host picks any address in it
// at will, RFC 8981). Sans-IO and not thread-safe: its owner (the SessionManager) calls it
// under its own lock, with the time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.hpp"

namespace strata::auth {

struct ClientLimits {
  double sessions_per_second = 0;  // new sessions per client; 0 = no rate limit
  double burst = 0;                // bucket size; 0 = max(1, 2 x rate)
  size_t max_sessions = 0;         // sessions one client holds at once; 0 = no cap
  bool enabled() const { return sessions_per_second > 0 || max_sessions > 0; }
};

// The client of an HTTP peer address ("ip:port", "[ip]:port" or a bare ip): the IPv4
// address, or the IPv6 /64 prefix ("2001:db8:1:2::/64"). Empty when unparsable.
std::string client_key(std::string_view remote_address);

class ClientLimiter {
 public:
  explicit ClientLimiter(ClientLimits limits = {}) : limits_(limits) {}

  struct Refusal {
    Duration retry_after;
    bool rate = false;  // true: too many new sessions; false: too many at once
  };
  // May `client` open one more session now? Takes a token from its bucket when it may.
  // An empty client (unknown address) is never limited.
  std::optional<Refusal> admit(const std::string& client, Timestamp now);
  void session_started(const std::string& client);
  void session_ended(const std::string& client);

  size_t sessions_of(const std::string& client) const;
  size_t tracked_clients() const { return clients_.size(); }

 private:
  struct State {
    double tokens = 0;
    Timestamp refilled{};
    size_t sessions = 0;
  };
  double burst() const;
  // Forgets clients with no session whose bucket has refilled: they are indistinguishable
  // from new ones, and the table must not grow with every address that ever connected.
  void prune(Timestamp now);

  ClientLimits limits_;
  std::unordered_map<std::string, State> clients_;
  Timestamp next_prune_{};
};

}  // namespace strata::auth
