#include "ice/ice_lite_agent.hpp"

#include <algorithm>

#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::ice {
namespace {

constexpr uint16_t kRoleConflict = 487;  // RFC 8445 §7.3.1.1

}  // namespace

IceLiteAgent::IceLiteAgent(std::string local_ufrag, std::string local_pwd,
                           std::optional<std::string> remote_ufrag)
    : IceLiteAgent(std::move(local_ufrag), std::move(local_pwd), std::move(remote_ufrag), Config{}) {}

IceLiteAgent::IceLiteAgent(std::string local_ufrag, std::string local_pwd,
                           std::optional<std::string> remote_ufrag, Config config)
    : local_ufrag_(std::move(local_ufrag)),
      local_pwd_(std::move(local_pwd)),
      remote_ufrag_(std::move(remote_ufrag)),
      config_(config) {}

IceLiteAgent::Result IceLiteAgent::handle_binding(ByteSpan data, const SocketAddress& from, Timestamp now,
                                                  const SocketAddress& local) {
  handle_timeout(now);
  auto msg = stun::Message::parse(data);
  if (!msg) {
    ++counters_.malformed;
    return {};
  }
  // A lite agent sends no requests, so responses are never expected; indications
  // (keepalives) need no answer.
  if (!msg->is_binding_request()) {
    ++counters_.not_binding_request;
    return {};
  }
  // RFC 8445 §7.2.2 requires FINGERPRINT on checks; we verify it when present and
  // tolerate its absence, since MESSAGE-INTEGRITY already authenticates the request.
  if (msg->fingerprint() && !msg->verify_fingerprint()) {
    ++counters_.bad_fingerprint;
    return {};
  }
  expire_previous(now);
  auto username = msg->username();
  // Which of our generations the check belongs to: USERNAME names our ufrag of it, and
  // MESSAGE-INTEGRITY is keyed with that generation's password. While a restart completes,
  // the browser's ufrag may be of either generation: Chromium's new connections check with
  // our old ufrag until it applied our answer ("old:new"), its old ones with our new ufrag
  // after ("new:old").
  const auto browser_ufrag_matches = [&](std::string_view local) {
    return username_matches(*username, local, remote_ufrag_) ||
           (previous_ && username_matches(*username, local, previous_->remote_ufrag));
  };
  const bool is_new = username && username_matches(*username, local_ufrag_, remote_ufrag_);
  const bool is_current = is_new || (username && browser_ufrag_matches(local_ufrag_));
  const bool is_previous = !is_current && username && previous_ && browser_ufrag_matches(previous_->local_ufrag);
  if (!is_current && !is_previous) {
    ++counters_.bad_username;
    return {};
  }
  // Short-term credentials (RFC 8445 §7.2.2): the key is the local password of the
  // generation the check belongs to, and so is the key of our response.
  const std::string& pwd = is_current ? local_pwd_ : previous_->local_pwd;
  if (!msg->verify_message_integrity(pwd)) {
    ++counters_.bad_integrity;
    return {};
  }
  // The browser's new generation is in use: the old one ends after the grace period.
  if (is_new && previous_ && previous_until_ == kNever) previous_until_ = now + config_.previous_generation_grace;

  Result result;
  result.authenticated = true;
  // We are always controlled. A peer sending ICE-CONTROLLED also thinks it is controlled;
  // a lite agent cannot take the controlling role, so it always answers 487 (§7.3.1.1)
  // and the request has no other effect (no nomination, no consent refresh).
  if (msg->ice_controlled()) {
    ++counters_.role_conflicts;
    result.response = stun::MessageBuilder::binding_error(msg->transaction_id())
                          .add_error_code(kRoleConflict, "Role Conflict")
                          .finish(pwd);
    return result;
  }

  result.nominated_changed = update_selection(from, local, msg->use_candidate(), now);
  ++counters_.success_responses;
  // §7.3.1.3 / RFC 8489 §7.3.1: echo the transaction id and report the source address.
  result.response = stun::MessageBuilder::binding_success(msg->transaction_id())
                        .add_xor_mapped_address(from)
                        .finish(pwd);
  return result;
}

bool IceLiteAgent::username_matches(std::string_view username, std::string_view local_ufrag,
                                    const std::optional<std::string>& remote_ufrag) {
  // RFC 8445 §7.2.2: USERNAME of a check we receive is "<our ufrag>:<their ufrag>".
  auto colon = username.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view local = username.substr(0, colon);
  std::string_view remote = username.substr(colon + 1);
  if (local != local_ufrag || remote.empty()) return false;
  return !remote_ufrag || remote == *remote_ufrag;
}

bool IceLiteAgent::update_selection(const SocketAddress& from, const SocketAddress& local, bool use_candidate,
                                    Timestamp now) {
  const bool on_selected = selected_ && *selected_ == from && selected_local_ == local;
  if (use_candidate) {
    ++counters_.nominations;
    remember_nominated(from, local);
    if (selected_ && !on_selected) ++counters_.address_switches;
    const bool changed = !on_selected || state_ != State::kConnected;
    selected_ = from;
    selected_local_ = local;
    last_selected_check_ = now;
    state_ = State::kConnected;
    return changed;
  }
  // Without nomination a check only matters on an established connection.
  if (!selected_ || state_ != State::kConnected) return false;
  if (on_selected) {
    last_selected_check_ = now;  // RFC 7675: consent refreshed on the selected pair
    return false;
  }
  if (now - last_selected_check_ < config_.switch_after_silence) return false;
  // The selected path went quiet while another path passes authenticated checks: NAT
  // rebinding without renomination. Follow the live path.
  ++counters_.address_switches;
  selected_ = from;
  selected_local_ = local;
  last_selected_check_ = now;
  return true;
}

void IceLiteAgent::remember_nominated(const SocketAddress& from, const SocketAddress& local) {
  for (Path& p : nominated_paths_) {
    if (p.remote == from) {
      p.local = local;
      return;
    }
  }
  nominated_paths_[next_nominated_] = Path{from, local};
  next_nominated_ = (next_nominated_ + 1) % nominated_paths_.size();
}

bool IceLiteAgent::follow_media(const SocketAddress& from, Timestamp now) {
  if (state_ != State::kConnected || (selected_ && *selected_ == from)) return false;
  for (const Path& p : nominated_paths_) {
    if (!(p.remote == from) || !p.remote.valid()) continue;
    ++counters_.address_switches;
    selected_ = p.remote;
    selected_local_ = p.local;
    last_selected_check_ = now;
    return true;
  }
  return false;
}

void IceLiteAgent::expire_previous(Timestamp now) {
  if (previous_ && now >= previous_until_) {
    previous_.reset();
    previous_until_ = kNever;
  }
}

void IceLiteAgent::handle_timeout(Timestamp now) {
  expire_previous(now);
  if (state_ == State::kConnected && consent_expired(now)) {
    state_ = State::kDisconnected;
    ++counters_.consent_expirations;
  }
}

bool IceLiteAgent::consent_expired(Timestamp now) const {
  return state_ != State::kNew && now - last_selected_check_ >= config_.consent_timeout;
}

Timestamp IceLiteAgent::next_timeout() const {
  const Timestamp consent = state_ == State::kConnected ? last_selected_check_ + config_.consent_timeout : kNever;
  return std::min(consent, previous_ ? previous_until_ : kNever);
}

std::optional<SocketAddress> IceLiteAgent::selected_address() const {
  if (state_ != State::kConnected) return std::nullopt;
  return selected_;
}

void IceLiteAgent::restart(std::string local_ufrag, std::string local_pwd,
                           std::optional<std::string> remote_ufrag) {
  previous_ = Credentials{std::move(local_ufrag_), std::move(local_pwd_), std::move(remote_ufrag_)};
  previous_until_ = kNever;
  local_ufrag_ = std::move(local_ufrag);
  local_pwd_ = std::move(local_pwd);
  remote_ufrag_ = std::move(remote_ufrag);
}

const std::string& IceLiteAgent::previous_local_ufrag() const {
  static const std::string kNone;
  return previous_ ? previous_->local_ufrag : kNone;
}

}  // namespace strata::ice
