// Controlling side of ICE (RFC 8445) for one data stream, sans-IO, for an edge server that
// connects as a WebRTC client to an origin's ICE-lite endpoint.
//
// Because the peer is always a lite agent with host candidates, most of full ICE falls
// away (RFC 8445 §2.5, §6.1.1):
//  - we are always controlling (a lite agent must be controlled), so there is no role
//    negotiation; a 487 from the peer cannot happen legitimately and is only counted;
//  - nothing to gather: our own candidate is whatever local socket the owner sends from; no
//    triggered checks either. The lite peer does send Binding requests of its own, to
//    verify that our address receives what it sends before it sends anything else there
//    (IceLiteAgent, "Verified paths"); like any full agent we must answer them (RFC 8445
//    §7.3), or an origin would never send a relay its media (handle_stun);
//  - we use aggressive nomination (every check carries USE-CANDIDATE): the lite peer
//    selects the address of the first check it answers, and we select the first remote
//    candidate whose check succeeds.
//
// Checks (§7.2.4 / §7.2.5) are paced one new check per `check_interval` (Ta, §14.2) over
// the remote candidates, highest priority first, then round-robin; each pending check is
// retransmitted with the same transaction id on an RTO that starts at
// max(500 ms, Ta * candidates) (§14.3) and doubles. At most kMaxOutstanding transactions
// are in flight. After connecting, consent checks (RFC 7675 §5.1) go to the selected
// address every `consent_interval` ±20%; without an authenticated response for
// `consent_timeout` the agent becomes kDisconnected (terminal until restart()).
//
// Responses are accepted only when they match an outstanding transaction id, come from
// the address that check was sent to, pass FINGERPRINT (when present) and
// MESSAGE-INTEGRITY keyed with the remote password; anything else is counted and ignored
// so an off-path attacker cannot connect, disconnect or redirect the agent.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "stun/message.hpp"

namespace strata::ice {

class IceControllingAgent {
 public:
  static constexpr size_t kMaxOutstanding = 16;

  struct Config {
    // Ta: pacing of new connectivity checks while connecting (RFC 8445 §14.2).
    Duration check_interval = std::chrono::milliseconds(50);
    // RFC 7675 §5.1: consent checks every 5 s, randomized to [0.8, 1.2] of that.
    Duration consent_interval = std::chrono::seconds(5);
    // RFC 7675 §5.1: consent is lost 30 s after the last authenticated response.
    Duration consent_timeout = std::chrono::seconds(30);
    // Give up when no check has succeeded this long after the first handle_timeout().
    Duration connect_timeout = std::chrono::seconds(10);
    // Send attempts per connectivity check before the transaction is abandoned (RFC 8489
    // §6.2.1 Rc); the candidate is then checked again on its next turn.
    int max_sends = 7;
    // Cap for the doubling RTO of connectivity checks.
    Duration max_rto = std::chrono::seconds(3);
  };

  enum class State { kNew, kChecking, kConnected, kFailed, kDisconnected };

  struct Outgoing {
    Bytes data;
    SocketAddress to;
  };

  struct Counters {
    uint64_t requests_sent = 0;        // Binding requests put on the wire, incl. retransmissions
    uint64_t retransmissions = 0;      // of which retransmissions
    uint64_t consent_checks_sent = 0;  // of which consent checks (RFC 7675)
    uint64_t responses_ok = 0;         // authenticated success responses to our checks
    uint64_t responses_bad = 0;        // malformed, bad FINGERPRINT/MI, wrong source, no XOR-MAPPED
    uint64_t unknown_transaction = 0;  // responses matching no outstanding transaction
    uint64_t role_conflicts = 0;       // authenticated 487 (impossible from a lite peer)
    uint64_t error_responses = 0;      // other authenticated error responses
    uint64_t timeouts = 0;             // transactions that expired without a valid response
    uint64_t evictions = 0;            // transactions dropped to respect kMaxOutstanding
    uint64_t requests_answered = 0;    // peer's Binding requests answered with success
    uint64_t requests_rejected = 0;    // peer's Binding requests dropped or answered 487
    uint64_t ignored = 0;              // indications and non-Binding methods
  };

  IceControllingAgent(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag,
                      std::string remote_pwd, uint64_t tie_breaker);
  IceControllingAgent(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag,
                      std::string remote_pwd, uint64_t tie_breaker, Config config);

  // Adds a remote (host) candidate, or updates the priority of a known address. May be
  // called at any time (trickle ICE); new candidates join the check rotation.
  void add_remote_candidate(const SocketAddress& addr, uint32_t priority);
  // Forgets all remote candidates (e.g. before restart() with a new remote description).
  void clear_remote_candidates();

  // Call on every tick (at the latest at next_timeout()). The first call starts checking.
  // Appends the Binding requests to send now to `out`.
  void handle_timeout(Timestamp now, std::vector<Outgoing>& out);
  // Earliest time handle_timeout() has work to do: Timestamp{} (immediately) in kNew,
  // kNever in kFailed/kDisconnected.
  Timestamp next_timeout() const;

  // A datagram the demux classified as STUN, received from `from`. Responses settle our
  // transactions; requests (a lite peer's path verification, IceLiteAgent) are answered
  // into `out` as RFC 8445 §7.3 requires of a full agent, authenticated with the local
  // password.
  void handle_stun(ByteSpan data, const SocketAddress& from, Timestamp now, std::vector<Outgoing>& out);

  State state() const { return state_; }
  // The remote address to send media to; nullopt unless kConnected.
  std::optional<SocketAddress> selected_address() const;

  // ICE restart (RFC 8445 §9): new credentials on both sides, all transactions dropped,
  // back to kNew; the next handle_timeout() starts checking again. Remote candidates are
  // kept (the origin's host candidates normally survive a restart). The previous
  // selection is cleared, so an owner that wants to keep sending media during the restart
  // must remember the old address itself.
  void restart(std::string local_ufrag, std::string local_pwd, std::string remote_ufrag,
               std::string remote_pwd);

  const Counters& counters() const { return counters_; }
  size_t outstanding_transactions() const;
  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_pwd() const { return local_pwd_; }

 private:
  struct Candidate {
    SocketAddress address;
    uint32_t priority = 0;
    uint64_t last_turn = 0;  // rotation sequence number of its last check; 0 = never checked
    bool pending = false;    // a connectivity check to it is outstanding
  };

  struct Transaction {
    bool active = false;
    bool consent = false;  // RFC 7675 consent check (not retransmitted)
    stun::TransactionId id{};
    SocketAddress to;
    Bytes request;  // kept for retransmission with the same transaction id
    Timestamp created{};
    Timestamp next_send{};  // retransmission time, or expiry after the last send
    Duration rto{};
    int sends = 0;
  };

  void start_checking(Timestamp now);
  void apply_deadlines(Timestamp now);
  void retransmit_due(Timestamp now, std::vector<Outgoing>& out);
  void start_next_check(Timestamp now, std::vector<Outgoing>& out);
  void send_consent_check(Timestamp now, std::vector<Outgoing>& out);
  Candidate* next_candidate();
  Transaction* allocate_transaction(bool for_consent);
  Transaction* find_transaction(const stun::TransactionId& id);
  void finish_transaction(Transaction& t);
  void clear_transactions();
  Bytes build_request(const stun::TransactionId& id, bool nominate) const;
  Duration initial_rto() const;
  Duration randomized_consent_interval();

  void handle_response(const stun::Message& msg, const SocketAddress& from, Timestamp now);
  void handle_request(const stun::Message& msg, const SocketAddress& from, std::vector<Outgoing>& out);
  void on_success(Transaction& t, Timestamp now);

  std::string local_ufrag_;
  std::string local_pwd_;
  std::string remote_ufrag_;
  std::string remote_pwd_;
  uint64_t tie_breaker_;
  Config config_;
  Counters counters_;
  State state_ = State::kNew;

  std::vector<Candidate> candidates_;  // sorted by priority, highest first
  uint64_t turn_ = 0;
  std::array<Transaction, kMaxOutstanding> transactions_{};

  Timestamp connect_deadline_ = kNever;
  Timestamp next_check_ = kNever;    // next paced new check (kChecking)
  Timestamp next_consent_ = kNever;  // next consent check (kConnected)
  Timestamp last_consent_ok_{};      // last authenticated success on the selected pair
  std::optional<SocketAddress> selected_;
  uint64_t rng_state_;  // splitmix64 state for consent jitter (not security relevant)
};

}  // namespace strata::ice
