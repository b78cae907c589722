#include "auth/client_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/socket_address.hpp"

namespace strata::auth {
namespace {

constexpr Duration kPruneInterval = std::chrono::seconds(10);
constexpr Duration kConcurrentRetry = std::chrono::seconds(5);

}  // namespace

std::string client_key(std::string_view remote) {
  std::optional<SocketAddress> addr = SocketAddress::parse(remote);
  if (!addr) addr = SocketAddress::from_ip_port(std::string(remote), 0);
  if (!addr) return {};
  const SocketAddress ip = addr->unmapped();  // an IPv4 peer of a dual-stack listener
  if (!ip.is_v6()) return ip.ip_string();
  // The first four groups of the textual form are not enough (it may be compressed):
  // read the bytes.
  const uint8_t* b = ip.raw_address();
  char buf[48];
  std::snprintf(buf, sizeof buf, "%x:%x:%x:%x::/64", b[0] << 8 | b[1], b[2] << 8 | b[3], b[4] << 8 | b[5],
                b[6] << 8 | b[7]);
  return buf;
}

double ClientLimiter::burst() const {
  if (limits_.burst > 0) return limits_.burst;
  return std::max(1.0, 2 * limits_.sessions_per_second);
}

std::optional<ClientLimiter::Refusal> ClientLimiter::admit(const std::string& client, Timestamp now) {
  if (client.empty() || !limits_.enabled()) return std::nullopt;
  prune(now);
  auto [it, fresh] = clients_.try_emplace(client);
  State& s = it->second;
  if (limits_.max_sessions > 0 && s.sessions >= limits_.max_sessions) return Refusal{kConcurrentRetry, false};
  if (limits_.sessions_per_second <= 0) return std::nullopt;
  if (fresh) {
    s.tokens = burst();
    s.refilled = now;
  }
  const double elapsed = std::chrono::duration<double>(now - s.refilled).count();
  s.tokens = std::min(burst(), s.tokens + std::max(0.0, elapsed) * limits_.sessions_per_second);
  s.refilled = now;
  if (s.tokens >= 1) {
    s.tokens -= 1;
    return std::nullopt;
  }
  const double wait = (1 - s.tokens) / limits_.sessions_per_second;
  return Refusal{std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait)), true};
}

void ClientLimiter::session_started(const std::string& client) {
  if (client.empty() || !limits_.enabled()) return;
  ++clients_[client].sessions;
}

void ClientLimiter::session_ended(const std::string& client) {
  auto it = clients_.find(client);
  if (it != clients_.end() && it->second.sessions > 0) --it->second.sessions;
}

size_t ClientLimiter::sessions_of(const std::string& client) const {
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.sessions;
}

void ClientLimiter::prune(Timestamp now) {
  if (now < next_prune_) return;
  next_prune_ = now + kPruneInterval;
  std::erase_if(clients_, [&](const auto& entry) {
    const State& s = entry.second;
    if (s.sessions > 0) return false;
    if (limits_.sessions_per_second <= 0) return true;
    const double elapsed = std::chrono::duration<double>(now - s.refilled).count();
    return s.tokens + elapsed * limits_.sessions_per_second >= burst();
  });
}

}  // namespace strata::auth
