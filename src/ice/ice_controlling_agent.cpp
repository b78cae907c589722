#include "ice/ice_controlling_agent.hpp"

#include <algorithm>

#include "stun/builder.hpp"

namespace strata::ice {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t kRoleConflict = 487;  // RFC 8445 §7.3.1.1

// PRIORITY of our checks (RFC 8445 §7.1.1, §5.1.2.1): the priority a peer-reflexive
// candidate learned from them would get: type preference 110, local preference 65535,
// component 1.
constexpr uint32_t kPeerReflexivePriority = (110u << 24) | (65535u << 8) | (256u - 1u);

// RFC 8445 §14.3: the RTO of connectivity checks is at least 500 ms.
constexpr Duration kMinRto = 500ms;

}  // namespace

IceControllingAgent::IceControllingAgent(std::string local_ufrag, std::string local_pwd,
                                         std::string remote_ufrag, std::string remote_pwd,
                                         uint64_t tie_breaker)
    : IceControllingAgent(std::move(local_ufrag), std::move(local_pwd), std::move(remote_ufrag),
                          std::move(remote_pwd), tie_breaker, Config{}) {}

IceControllingAgent::IceControllingAgent(std::string local_ufrag, std::string local_pwd,
                                         std::string remote_ufrag, std::string remote_pwd,
                                         uint64_t tie_breaker, Config config)
    : local_ufrag_(std::move(local_ufrag)),
      local_pwd_(std::move(local_pwd)),
      remote_ufrag_(std::move(remote_ufrag)),
      remote_pwd_(std::move(remote_pwd)),
      tie_breaker_(tie_breaker),
      config_(config),
      rng_state_(tie_breaker ^ 0x9E3779B97F4A7C15ull) {}

// ---------------------------------------------------------------------------------------
// Candidates

void IceControllingAgent::add_remote_candidate(const SocketAddress& addr, uint32_t priority) {
  auto it = std::find_if(candidates_.begin(), candidates_.end(),
                         [&](const Candidate& c) { return c.address == addr; });
  if (it != candidates_.end()) {
    it->priority = priority;
  } else {
    candidates_.push_back(Candidate{addr, priority});
  }
  // Highest priority first (RFC 8445 §6.1.2.6 orders the checklist by pair priority; with
  // a single local candidate that is the remote candidate's priority).
  std::stable_sort(candidates_.begin(), candidates_.end(),
                   [](const Candidate& a, const Candidate& b) { return a.priority > b.priority; });
}

void IceControllingAgent::clear_remote_candidates() { candidates_.clear(); }

IceControllingAgent::Candidate* IceControllingAgent::next_candidate() {
  // Round-robin: the idle candidate checked longest ago (never-checked first); ties go to
  // the higher priority because candidates_ is sorted and we keep the first minimum.
  Candidate* best = nullptr;
  for (auto& c : candidates_) {
    if (c.pending) continue;
    if (!best || c.last_turn < best->last_turn) best = &c;
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// Timers

void IceControllingAgent::handle_timeout(Timestamp now, std::vector<Outgoing>& out) {
  if (state_ == State::kNew) start_checking(now);
  apply_deadlines(now);
  if (state_ == State::kChecking) {
    retransmit_due(now, out);
    // RFC 8445 §6.1.4.2: one new check per Ta.
    if (now >= next_check_) {
      start_next_check(now, out);
      next_check_ = now + config_.check_interval;
    }
  } else if (state_ == State::kConnected && now >= next_consent_) {
    send_consent_check(now, out);
    next_consent_ = now + randomized_consent_interval();
  }
}

Timestamp IceControllingAgent::next_timeout() const {
  switch (state_) {
    case State::kNew:
      return Timestamp{};
    case State::kChecking: {
      Timestamp t = std::min(connect_deadline_, next_check_);
      for (const auto& tr : transactions_) {
        if (tr.active && !tr.consent) t = std::min(t, tr.next_send);
      }
      return t;
    }
    case State::kConnected:
      return std::min(next_consent_, last_consent_ok_ + config_.consent_timeout);
    case State::kFailed:
    case State::kDisconnected:
      break;
  }
  return kNever;
}

void IceControllingAgent::start_checking(Timestamp now) {
  state_ = State::kChecking;
  connect_deadline_ = now + config_.connect_timeout;
  next_check_ = now;
}

void IceControllingAgent::apply_deadlines(Timestamp now) {
  if (state_ == State::kChecking && now >= connect_deadline_) {
    state_ = State::kFailed;
    clear_transactions();
    return;
  }
  // RFC 7675 §5.1: consent expires consent_timeout after the last authenticated response.
  if (state_ == State::kConnected && now - last_consent_ok_ >= config_.consent_timeout) {
    state_ = State::kDisconnected;
    selected_.reset();
    clear_transactions();
    return;
  }
  for (auto& t : transactions_) {
    if (!t.active) continue;
    const bool expired = t.consent ? now - t.created >= config_.consent_timeout
                                   : t.sends >= config_.max_sends && now >= t.next_send;
    if (expired) {
      ++counters_.timeouts;
      finish_transaction(t);
    }
  }
}

void IceControllingAgent::retransmit_due(Timestamp now, std::vector<Outgoing>& out) {
  // RFC 8489 §6.2.1: retransmit the same request (same transaction id) with a doubling
  // RTO. Consent checks are not retransmitted: a new one follows within seconds anyway.
  for (auto& t : transactions_) {
    if (!t.active || t.consent || t.sends >= config_.max_sends || now < t.next_send) continue;
    out.push_back(Outgoing{t.request, t.to});
    ++t.sends;
    ++counters_.requests_sent;
    ++counters_.retransmissions;
    t.rto = std::min(t.rto * 2, config_.max_rto);
    t.next_send = now + t.rto;  // after the last send: when the transaction expires
  }
}

void IceControllingAgent::start_next_check(Timestamp now, std::vector<Outgoing>& out) {
  Candidate* c = next_candidate();
  if (!c) return;
  Transaction* t = allocate_transaction(false);
  if (!t) return;  // kMaxOutstanding checks in flight: wait for one to settle
  t->consent = false;
  t->id = stun::random_transaction_id();
  t->to = c->address;
  t->request = build_request(t->id, /*nominate=*/true);
  t->created = now;
  t->rto = initial_rto();
  t->next_send = now + t->rto;
  t->sends = 1;
  c->pending = true;
  c->last_turn = ++turn_;
  out.push_back(Outgoing{t->request, t->to});
  ++counters_.requests_sent;
}

void IceControllingAgent::send_consent_check(Timestamp now, std::vector<Outgoing>& out) {
  if (!selected_) return;
  Transaction* t = allocate_transaction(true);
  t->consent = true;
  t->id = stun::random_transaction_id();
  t->to = *selected_;
  // RFC 7675 §5.1: a consent check is an ordinary Binding request on the selected pair;
  // the pair is already nominated, so no USE-CANDIDATE.
  t->request = build_request(t->id, /*nominate=*/false);
  t->created = now;
  t->next_send = kNever;
  t->sends = 1;
  out.push_back(Outgoing{t->request, t->to});
  ++counters_.requests_sent;
  ++counters_.consent_checks_sent;
}

Duration IceControllingAgent::initial_rto() const {
  // RFC 8445 §14.3: RTO = MAX(500ms, Ta * N * (Num-Waiting + Num-In-Progress)); with one
  // local candidate every remote candidate is one pair, so Ta * candidates.
  const auto pairs = static_cast<int64_t>(std::max<size_t>(1, candidates_.size()));
  return std::max(kMinRto, config_.check_interval * pairs);
}

Duration IceControllingAgent::randomized_consent_interval() {
  // RFC 7675 §5.1: uniformly random in [0.8, 1.2] * interval so checks from many sessions
  // do not synchronize. splitmix64: jitter needs no cryptographic randomness.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const double unit = double(z >> 11) / double(uint64_t(1) << 53);  // [0, 1)
  const double factor = 0.8 + 0.4 * unit;
  return Duration(static_cast<int64_t>(double(config_.consent_interval.count()) * factor));
}

// ---------------------------------------------------------------------------------------
// Transactions

IceControllingAgent::Transaction* IceControllingAgent::allocate_transaction(bool for_consent) {
  for (auto& t : transactions_) {
    if (!t.active) {
      t.active = true;
      return &t;
    }
  }
  if (!for_consent) return nullptr;
  // Full of consent checks (only possible with a very short consent_interval): the oldest
  // is the least likely to be answered, so it makes room.
  Transaction* oldest = nullptr;
  for (auto& t : transactions_) {
    if (t.consent && (!oldest || t.created < oldest->created)) oldest = &t;
  }
  if (!oldest) oldest = &transactions_[0];
  ++counters_.evictions;
  finish_transaction(*oldest);
  oldest->active = true;
  return oldest;
}

IceControllingAgent::Transaction* IceControllingAgent::find_transaction(const stun::TransactionId& id) {
  for (auto& t : transactions_) {
    if (t.active && t.id == id) return &t;
  }
  return nullptr;
}

void IceControllingAgent::finish_transaction(Transaction& t) {
  if (!t.consent) {
    for (auto& c : candidates_) {
      if (c.address == t.to) c.pending = false;
    }
  }
  t.active = false;
  t.request.clear();  // keeps capacity for the next request in this slot
}

void IceControllingAgent::clear_transactions() {
  for (auto& t : transactions_) {
    if (t.active) finish_transaction(t);
  }
  for (auto& c : candidates_) c.pending = false;
}

size_t IceControllingAgent::outstanding_transactions() const {
  return static_cast<size_t>(
      std::count_if(transactions_.begin(), transactions_.end(), [](const Transaction& t) { return t.active; }));
}

Bytes IceControllingAgent::build_request(const stun::TransactionId& id, bool nominate) const {
  // RFC 8445 §7.2.2: USERNAME "<remote ufrag>:<local ufrag>", MESSAGE-INTEGRITY keyed with
  // the remote password, FINGERPRINT; §7.1.1-§7.1.3: PRIORITY, ICE-CONTROLLING and (for
  // aggressive nomination) USE-CANDIDATE.
  auto builder = stun::MessageBuilder::binding_request(id);
  builder.add_username(remote_ufrag_ + ":" + local_ufrag_)
      .add_priority(kPeerReflexivePriority)
      .add_ice_controlling(tie_breaker_);
  if (nominate) builder.add_use_candidate();
  return builder.finish(remote_pwd_, /*fingerprint=*/true);
}

// ---------------------------------------------------------------------------------------
// Incoming STUN

void IceControllingAgent::handle_stun(ByteSpan data, const SocketAddress& from, Timestamp now,
                                      std::vector<Outgoing>& out) {
  apply_deadlines(now);
  auto msg = stun::Message::parse(data);
  if (!msg) {
    ++counters_.responses_bad;
    return;
  }
  if (msg->method() != stun::kMethodBinding) {
    ++counters_.ignored;
    return;
  }
  switch (msg->message_class()) {
    case stun::MessageClass::kRequest:
      handle_request(*msg, from, out);
      break;
    case stun::MessageClass::kSuccessResponse:
    case stun::MessageClass::kErrorResponse:
      handle_response(*msg, from, now);
      break;
    case stun::MessageClass::kIndication:
      ++counters_.ignored;  // keepalives need no answer
      break;
  }
}

void IceControllingAgent::handle_response(const stun::Message& msg, const SocketAddress& from, Timestamp now) {
  Transaction* t = find_transaction(msg.transaction_id());
  if (!t) {
    ++counters_.unknown_transaction;  // late, duplicate, from before a restart, or forged
    return;
  }
  // RFC 8445 §7.2.5.2.1: the response must come from where the request went (symmetric
  // addresses). FINGERPRINT is checked when present; MESSAGE-INTEGRITY with the remote
  // password (§7.2.5.1) is mandatory. A failed check leaves the transaction pending, so a
  // forged response cannot cancel a real one.
  if (!(from == t->to) || (msg.fingerprint() && !msg.verify_fingerprint()) ||
      !msg.verify_message_integrity(remote_pwd_)) {
    ++counters_.responses_bad;
    return;
  }
  if (msg.message_class() == stun::MessageClass::kErrorResponse) {
    auto error = msg.error_code();
    if (!error) {
      ++counters_.responses_bad;
      return;
    }
    // A lite peer is always controlled (§6.1.1), so it cannot legitimately report a role
    // conflict; there is no role to switch to. Count it and retry the candidate later.
    if (error->code == kRoleConflict) {
      ++counters_.role_conflicts;
    } else {
      ++counters_.error_responses;
    }
    finish_transaction(*t);
    return;
  }
  if (!msg.xor_mapped_address()) {  // RFC 8489 §7.3.3 / RFC 8445 §7.2.5.2
    ++counters_.responses_bad;
    return;
  }
  ++counters_.responses_ok;
  on_success(*t, now);
}

void IceControllingAgent::on_success(Transaction& t, Timestamp now) {
  if (t.consent) {
    if (state_ == State::kConnected && selected_ && *selected_ == t.to) last_consent_ok_ = now;
    finish_transaction(t);
    return;
  }
  if (state_ != State::kChecking) {
    finish_transaction(t);
    return;
  }
  // Aggressive nomination (§8.1.1): the check carried USE-CANDIDATE, so its success both
  // validates and nominates the pair; the lite peer selected our address on it.
  state_ = State::kConnected;
  selected_ = t.to;
  last_consent_ok_ = now;
  next_consent_ = now + randomized_consent_interval();
  next_check_ = kNever;
  connect_deadline_ = kNever;
  clear_transactions();  // the other checks are moot once a pair is selected
}

void IceControllingAgent::handle_request(const stun::Message& msg, const SocketAddress& from,
                                         std::vector<Outgoing>& out) {
  // A full agent must answer any valid check (§7.3), and our lite peer sends one to verify
  // our path before it sends us DTLS or media (IceLiteAgent): USERNAME "<local
  // ufrag>:<remote ufrag>", MESSAGE-INTEGRITY keyed with the local password.
  // Anything unauthenticated is dropped silently (RFC 8489 §9.1.3), with no reflection.
  auto username = msg.username();
  const std::string expected = local_ufrag_ + ":" + remote_ufrag_;
  if ((msg.fingerprint() && !msg.verify_fingerprint()) || !username || *username != expected ||
      !msg.verify_message_integrity(local_pwd_)) {
    ++counters_.requests_rejected;
    return;
  }
  // §7.3.1.1: a peer claiming ICE-CONTROLLING conflicts with our role. The peer is meant
  // to be lite and therefore controlled, so we never give up the role: always 487.
  if (msg.ice_controlling()) {
    ++counters_.requests_rejected;
    out.push_back(Outgoing{stun::MessageBuilder::binding_error(msg.transaction_id())
                               .add_error_code(kRoleConflict, "Role Conflict")
                               .finish(local_pwd_),
                           from});
    return;
  }
  ++counters_.requests_answered;
  out.push_back(Outgoing{stun::MessageBuilder::binding_success(msg.transaction_id())
                             .add_xor_mapped_address(from)
                             .finish(local_pwd_),
                         from});
}

std::optional<SocketAddress> IceControllingAgent::selected_address() const {
  if (state_ != State::kConnected) return std::nullopt;
  return selected_;
}

void IceControllingAgent::restart(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag,
                                  std::string remote_pwd) {
  // RFC 8445 §9: new credentials, the checklist starts over. Responses to old
  // transactions no longer match and are counted as unknown_transaction.
  local_ufrag_ = std::move(local_ufrag);
  local_pwd_ = std::move(local_pwd);
  remote_ufrag_ = std::move(remote_ufrag);
  remote_pwd_ = std::move(remote_pwd);
  clear_transactions();
  for (auto& c : candidates_) c.last_turn = 0;
  state_ = State::kNew;
  selected_.reset();
  connect_deadline_ = kNever;
  next_check_ = kNever;
  next_consent_ = kNever;
}

}  // namespace strata::ice
