#include "ice/ice_lite_agent.hpp"

#include <algorithm>

#include "stun/builder.hpp"
#include "stun/message.hpp"

namespace strata::ice {
namespace {

constexpr uint16_t kRoleConflict = 487;  // RFC 8445 §7.3.1.1

// PRIORITY of our verification requests (RFC 8445 §7.1.1, §5.1.2.1): what a peer-reflexive
// candidate learned from them would get (type preference 110, local preference 65535,
// component 1), as IceControllingAgent's checks.
constexpr uint32_t kPeerReflexivePriority = (110u << 24) | (65535u << 8) | (256u - 1u);

}  // namespace

IceLiteAgent::IceLiteAgent(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag,
                           std::string remote_pwd, Config config)
    : local_ufrag_(std::move(local_ufrag)),
      local_pwd_(std::move(local_pwd)),
      remote_ufrag_(std::move(remote_ufrag)),
      remote_pwd_(std::move(remote_pwd)),
      config_(config) {}

IceLiteAgent::Result IceLiteAgent::handle_binding(ByteSpan data, const SocketAddress& from, Timestamp now,
                                                  const SocketAddress& local) {
  handle_timeout(now);
  auto msg = stun::Message::parse(data);
  if (!msg) {
    ++counters_.malformed;
    return {};
  }
  const auto cls = msg->message_class();
  if (msg->method() == stun::kMethodBinding &&
      (cls == stun::MessageClass::kSuccessResponse || cls == stun::MessageClass::kErrorResponse)) {
    return handle_response(*msg, from, local, now);
  }
  // Indications (keepalives) need no answer.
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
  // and the request has no other effect (no nomination, no consent refresh, no path).
  if (msg->ice_controlled()) {
    ++counters_.role_conflicts;
    result.response = stun::MessageBuilder::binding_error(msg->transaction_id())
                          .add_error_code(kRoleConflict, "Role Conflict")
                          .finish(pwd);
    limit_to(result.response, find_path(from, local), data.size(), counters_.responses_withheld);
    return result;
  }

  const size_t i = touch_path(from, local, now, result);
  Path& path = paths_[i];
  path.last_check = now;
  if (msg->use_candidate()) {
    path.nominated = true;
    last_nominated_ = i;
  }
  result.nominated_changed = update_selection(path, msg->use_candidate(), now);
  ++counters_.success_responses;
  if (!path.verified) {
    result.request = verification_request(path, *username);
    limit_to(result.request, &path, data.size(), counters_.requests_withheld);
    if (result.request) ++counters_.verification_requests;
  }
  // §7.3.1.3 / RFC 8489 §7.3.1: echo the transaction id and report the source address.
  result.response = stun::MessageBuilder::binding_success(msg->transaction_id())
                        .add_xor_mapped_address(from)
                        .finish(pwd);
  limit_to(result.response, &path, data.size(), counters_.responses_withheld);
  return result;
}

// An answer to our verification request (RFC 8489 §6.3): it must match the transaction id
// we sent on this very path (RFC 8445 §7.2.5.2.1 symmetry) and be keyed with the client's
// password (§7.2.5.1). Only then did the party at that address receive our request.
IceLiteAgent::Result IceLiteAgent::handle_response(const stun::Message& msg, const SocketAddress& from,
                                                   const SocketAddress& local, Timestamp now) {
  Result result;
  const Path* p = find_path(from, local);
  if (!p || msg.transaction_id() != p->request_id || (msg.fingerprint() && !msg.verify_fingerprint()) ||
      !from_remote(msg, *p) || msg.message_class() != stun::MessageClass::kSuccessResponse) {
    // Late, forged, for a forgotten path, or an error (a client that thinks it is
    // controlled too: its own checks get our 487). A failed check leaves the path pending,
    // so a forged response cannot spoil a real one.
    ++counters_.bad_responses;
    return result;
  }
  ++counters_.verification_responses;
  result.authenticated = true;
  if (p->verified) return result;  // the answer to a retransmission of our request
  const auto i = static_cast<size_t>(p - paths_.data());
  paths_[i].verified = true;
  ++counters_.paths_verified;
  result.verified = true;
  result.nominated_changed = on_verified(i, now);
  return result;
}

bool IceLiteAgent::from_remote(const stun::Message& msg, const Path& p) const {
  const std::string* key = p.request_generation == generation_ ? &remote_pwd_
                           : previous_ && p.request_generation + 1 == generation_ ? &previous_->remote_pwd
                                                                                  : nullptr;
  // An empty key is one anybody can compute: without the client's password nothing verifies.
  return key && !key->empty() && msg.verify_message_integrity(*key);
}

std::optional<Bytes> IceLiteAgent::verification_request(Path& p, std::string_view check_username) {
  // The check's USERNAME is "<our ufrag>:<their ufrag>"; ours is the other way round and
  // keyed with their password (RFC 8445 §7.2.2), of the generation their ufrag names.
  const size_t colon = check_username.find(':');
  const std::string_view ours = check_username.substr(0, colon);
  const std::string_view theirs = check_username.substr(colon + 1);
  uint32_t generation = 0;
  const std::string* pwd = remote_pwd_for(theirs, &generation);
  if (!pwd || pwd->empty()) return std::nullopt;
  p.request_generation = generation;
  std::string username;
  username.reserve(check_username.size());
  username.append(theirs).append(":").append(ours);
  // §7.1.1-§7.1.3: PRIORITY, our role (ICE-CONTROLLED); no USE-CANDIDATE (we do not
  // nominate); FINGERPRINT (§7.2.2).
  return stun::MessageBuilder::binding_request(p.request_id)
      .add_username(username)
      .add_priority(kPeerReflexivePriority)
      .add_ice_controlled(config_.tie_breaker)
      .finish(std::string_view(*pwd), /*fingerprint=*/true);
}

const std::string* IceLiteAgent::remote_pwd_for(std::string_view remote_ufrag, uint32_t* generation) const {
  if (!remote_ufrag_ || *remote_ufrag_ == remote_ufrag) {
    *generation = generation_;
    return &remote_pwd_;
  }
  if (previous_ && (!previous_->remote_ufrag || *previous_->remote_ufrag == remote_ufrag)) {
    *generation = generation_ - 1;
    return &previous_->remote_pwd;
  }
  return nullptr;
}

void IceLiteAgent::limit_to(std::optional<Bytes>& bytes, const Path* p, size_t answered, uint64_t& withheld) const {
  // The no-amplification rule: toward an address that has not shown it receives what we
  // send, nothing is larger than the datagram it answers.
  if (!bytes || (p && p->verified) || bytes->size() <= answered) return;
  bytes.reset();
  ++withheld;
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

bool IceLiteAgent::update_selection(const Path& p, bool use_candidate, Timestamp now) {
  const bool on_selected = is_selected(p);
  if (use_candidate) {
    ++counters_.nominations;
    if (!p.verified) return false;  // rule 1: selected once it verifies (on_verified)
    const bool changed = !on_selected || state_ != State::kConnected;
    select(p, now);
    return changed;
  }
  // Without nomination a check only matters on an established connection.
  if (!selected_ || state_ != State::kConnected) return false;
  if (on_selected) {
    last_selected_check_ = now;  // RFC 7675: consent refreshed on the selected pair
    return false;
  }
  // Rule 2: the selected path went quiet while another path passes authenticated checks:
  // NAT rebinding without renomination. Follow the live path once it is verified.
  if (!p.verified || now - last_selected_check_ < config_.switch_after_silence) return false;
  select(p, now);
  return true;
}

bool IceLiteAgent::on_verified(size_t i, Timestamp now) {
  const Path& p = paths_[i];
  // Rule 1: before anything is selected, the first nominated path to verify wins (the
  // controlling agent, too, uses the first pair that succeeds); later, the last nomination.
  if (p.nominated && (state_ == State::kNew || last_nominated_ == i)) {
    const bool changed = !is_selected(p) || state_ != State::kConnected;
    select(p, now);
    return changed;
  }
  // Rule 2, for the path whose checks went on while the selected one fell silent.
  if (state_ == State::kConnected && !is_selected(p) && now - last_selected_check_ >= config_.switch_after_silence) {
    select(p, now);
    return true;
  }
  return false;
}

void IceLiteAgent::select(const Path& p, Timestamp now) {
  if (selected_ && !is_selected(p)) ++counters_.address_switches;
  selected_ = p.remote;
  selected_local_ = p.local;
  last_selected_check_ = now;
  state_ = State::kConnected;
}

bool IceLiteAgent::is_selected(const Path& p) const {
  return selected_ && *selected_ == p.remote && selected_local_ == p.local;
}

size_t IceLiteAgent::touch_path(const SocketAddress& from, const SocketAddress& local, Timestamp now,
                                Result& result) {
  if (const Path* p = find_path(from, local)) return static_cast<size_t>(p - paths_.data());
  // A free entry, else the least recently checked one that is not selected (kMaxPaths > 1,
  // and only one is selected).
  size_t victim = kNoPath;
  for (size_t i = 0; i < kMaxPaths; ++i) {
    const Path& p = paths_[i];
    if (!p.in_use) {
      victim = i;
      break;
    }
    if (is_selected(p)) continue;
    if (victim == kNoPath || p.last_check < paths_[victim].last_check) victim = i;
  }
  Path& v = paths_[victim];
  if (v.in_use) {
    ++counters_.paths_forgotten;
    const SocketAddress old = v.remote;
    v = Path{};
    if (last_nominated_ == victim) last_nominated_ = kNoPath;
    if (!(old == from) && !address_in_use(old)) result.forgotten = old;
  }
  result.new_address = !address_in_use(from);
  v.in_use = true;
  v.remote = from;
  v.local = local;
  v.request_id = stun::random_transaction_id();
  v.last_check = now;
  return victim;
}

IceLiteAgent::Path* IceLiteAgent::find_path(const SocketAddress& from, const SocketAddress& local) {
  for (Path& p : paths_) {
    if (p.in_use && p.remote == from && p.local == local) return &p;
  }
  return nullptr;
}

const IceLiteAgent::Path* IceLiteAgent::find_path(const SocketAddress& from, const SocketAddress& local) const {
  return const_cast<IceLiteAgent*>(this)->find_path(from, local);
}

bool IceLiteAgent::address_in_use(const SocketAddress& remote) const {
  return std::any_of(paths_.begin(), paths_.end(), [&](const Path& p) { return p.in_use && p.remote == remote; });
}

bool IceLiteAgent::follow_media(const SocketAddress& from, Timestamp now, const SocketAddress& local) {
  if (state_ != State::kConnected) return false;
  for (const Path& p : paths_) {
    if (!p.in_use || !p.nominated || !p.verified || !(p.remote == from)) continue;
    if (local.valid() && !(p.local == local)) continue;
    if (is_selected(p)) return false;
    select(p, now);
    return true;
  }
  return false;
}

bool IceLiteAgent::awaits_verification(const SocketAddress& from, const SocketAddress& local) const {
  return std::any_of(paths_.begin(), paths_.end(), [&](const Path& p) {
    return p.in_use && p.nominated && !p.verified && p.remote == from && (!local.valid() || p.local == local);
  });
}

bool IceLiteAgent::is_verified(const SocketAddress& from, const SocketAddress& local) const {
  const Path* p = find_path(from, local);
  return p && p->verified;
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

void IceLiteAgent::restart(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag,
                           std::string remote_pwd) {
  previous_ = Credentials{std::move(local_ufrag_), std::move(local_pwd_), std::move(remote_ufrag_), std::move(remote_pwd_)};
  previous_until_ = kNever;
  ++generation_;
  local_ufrag_ = std::move(local_ufrag);
  local_pwd_ = std::move(local_pwd);
  remote_ufrag_ = std::move(remote_ufrag);
  remote_pwd_ = std::move(remote_pwd);
}

const std::string& IceLiteAgent::previous_local_ufrag() const {
  static const std::string kNone;
  return previous_ ? previous_->local_ufrag : kNone;
}

}  // namespace strata::ice
