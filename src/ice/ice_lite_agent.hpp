// Server side of ICE-lite (RFC 8445 §2.5, §7.3) for one session, sans-IO.
//
// The SFU is a lite agent: it has host candidates only and is always the controlled agent.
// It answers authenticated Binding requests, follows the client's nomination (USE-CANDIDATE)
// to pick the path to send media to, and tracks consent freshness (RFC 7675) from the checks
// the client keeps sending.
//
// A path is the check's source address and, when the server advertises several host
// candidates on one wildcard socket, the local address it was sent to (the candidate the
// client checked): media must leave from that address too, or the client does not
// recognise the pair (RFC 8445 §7.2.5.2.1 symmetry). With one bound address the local
// address is left empty and only the source counts.
//
// Verified paths (no amplification, docs/ARCHITECTURE.md "No amplification"). An
// authenticated check proves only that its sender knows the session's ICE credentials, and
// every viewer knows its own: it is in its SDP exchange. Its source address proves nothing,
// so a check could name a victim's address and have us stream media there. RFC 8445 §2.5
// says a lite agent sends no checks; we send one anyway, because a lite agent otherwise has
// nothing that serves RFC 7675's purpose: a full agent's own checks (and their answers) are
// what prove the peer receives at that address. So every authenticated check on a path that
// is not verified yet gets our own Binding request back on that path (USERNAME
// "<remote ufrag>:<local ufrag>", MESSAGE-INTEGRITY keyed with the client's password from its
// offer, PRIORITY, ICE-CONTROLLED, FINGERPRINT; one transaction id per path, so the client's
// retransmitted checks retransmit it). A full agent must answer any valid check (RFC 8445
// §7.3: browsers, libnice, aioice and our own IceControllingAgent do); the path is verified
// when an authenticated success response with that transaction id comes back on that same
// (remote, local) path. The transaction id went only to that address, so only a party that
// receives there can answer. We never send requests on a timer: nothing goes to an address
// except in answer to a datagram from it.
//
// Toward a path that is not verified, nothing we send is larger than the datagram it answers:
// the success (or 487) response is sent only if not larger than the check, and so is our
// request; what is withheld is counted. Both are sent for one check, so an unverified address
// gets at most two datagrams per check, each at most its size.
//
// Path selection rules (kept deliberately simple); only a verified path is ever selected:
//  1. An authenticated request with USE-CANDIDATE nominates its path. A verified nominated
//     path is selected at once, replacing any previous one (renomination, client address
//     change); an unverified one is selected when it verifies, if nothing is selected then
//     or it is still the last nomination. Until then the previous selection stays.
//  2. An authenticated request without USE-CANDIDATE on another verified path replaces the
//     selected one only when the selected path has been silent (no authenticated check) for
//     `Config::switch_after_silence`: the path died and the client's consent checks now
//     arrive from a new NAT binding without renominating. An unverified path is switched to
//     when it verifies, if the selected one is silent then.
//  3. Consent (RFC 7675 §5.1) is refreshed only by authenticated checks on the selected
//     path; after `Config::consent_timeout` without one the state becomes kDisconnected and
//     selected_address() returns nullopt, so the owner stops sending. A later USE-CANDIDATE
//     check reconnects (once its path is verified).
//  4. DTLS or SRTP arriving on another verified path that an authenticated USE-CANDIDATE
//     check nominated (follow_media) moves the selection there. A controlling agent that
//     nominates several pairs at once (aggressive nomination, RFC 5245 §8.1.1.2; our own
//     edge relays and bench viewers do) uses the first pair whose check succeeds, which
//     need not be the one whose check reached us last: under load we selected one path
//     while the client sent its DTLS on the other, and dropped every ClientHello until
//     rule 2 switched 8+ s later (15 s connections for ~1/3 of a 500-viewer join). Only
//     nominated, verified paths count, so an off-path sender cannot move media anywhere.
// Packets that fail any check get no reply at all (no reflection/amplification, and
// RFC 8489 §9.1.3 lets a server drop unauthenticated requests silently); they only bump
// a counter.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "stun/message.hpp"

namespace strata::ice {

class IceLiteAgent {
 public:
  enum class State { kNew, kConnected, kDisconnected };

  // Paths remembered at once (checked, nominated, verified). A client checks a few pairs
  // (its addresses times ours: one or two with a single server candidate); beyond this the
  // least recently checked path that is not selected is forgotten (Result::forgotten), so
  // spoofed checks cannot grow our state, and a forgotten path that checks again is simply
  // verified again. Four keep the table at ~1.2 KB per transport (two 128-byte addresses a
  // path), what the nominated-path list of old took ("Memory per viewer").
  static constexpr size_t kMaxPaths = 4;

  struct Config {
    // RFC 7675 §5.1: consent expires 30 s after the last successful check.
    Duration consent_timeout = std::chrono::seconds(30);
    // Browsers send consent checks every 5 s ±20% (RFC 7675 §5.1), so 8 s without one from
    // the selected address means that path has stopped working.
    Duration switch_after_silence = std::chrono::seconds(8);
    // After an ICE restart, how long checks of the previous generation are still answered
    // once the new generation is in use: a check the browser sent (or retransmitted,
    // RFC 8489 §6.2.1) just before it switched can arrive after the first new one.
    Duration previous_generation_grace = std::chrono::seconds(3);
    // ICE-CONTROLLED tie-breaker of our verification requests (RFC 8445 §7.1.3); the owner
    // passes a random one. A lite agent never switches roles, so it is informational.
    uint64_t tie_breaker = 0;
  };

  // Why packets were dropped or what was answered. Every handle_binding() call bumps
  // exactly one of the outcome counters (the first nine) plus possibly the others.
  struct Counters {
    uint64_t success_responses = 0;  // authenticated Binding requests accepted (answered unless withheld)
    uint64_t role_conflicts = 0;     // peer claimed ICE-CONTROLLED: 487 (unless withheld)
    uint64_t malformed = 0;          // not a valid STUN message
    uint64_t not_binding_request = 0;  // indications, other methods: ignored
    uint64_t bad_fingerprint = 0;    // FINGERPRINT present but wrong
    uint64_t bad_username = 0;       // USERNAME missing or not "<local>:<remote>"
    uint64_t bad_integrity = 0;      // MESSAGE-INTEGRITY missing or wrong
    uint64_t verification_responses = 0;  // authenticated answers to our verification requests
    uint64_t bad_responses = 0;      // responses matching no request of their path, or failing checks
    uint64_t nominations = 0;        // USE-CANDIDATE accepted (incl. repeats)
    uint64_t address_switches = 0;   // selected path changed from one to another
    uint64_t consent_expirations = 0;
    uint64_t verification_requests = 0;  // our Binding requests sent to unverified paths
    uint64_t paths_verified = 0;         // paths that answered one
    uint64_t responses_withheld = 0;     // answers to an unverified path larger than its check
    uint64_t requests_withheld = 0;      // verification requests larger than the check
    uint64_t paths_forgotten = 0;        // evicted from the kMaxPaths table
  };

  struct Result {
    std::optional<Bytes> request;   // our verification request: send to `from`, from `local`, first
    std::optional<Bytes> response;  // send back to `from`, from `local`, when set
    bool authenticated = false;     // USERNAME and MESSAGE-INTEGRITY checked out
    bool nominated_changed = false;  // the selected path changed (or was first set)
    bool verified = false;          // this datagram verified the path (from, local)
    // `from` is a new path's address: it may answer our request or send its DTLS before it
    // is verified, so the owner routes its datagrams here (without taking it from another
    // session). `forgotten`: no path has that address any more; stop routing it here.
    bool new_address = false;
    std::optional<SocketAddress> forgotten;
  };

  // `remote_pwd`: the client's ICE password (from its offer), the key of our verification
  // requests and of its answers. Without it no path is ever verified, so nothing is ever
  // selected (for callers that exercise the check handling alone, e.g. the fuzz target).
  IceLiteAgent(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag,
               std::string remote_pwd, Config config);
  // With the default Config (a default argument `= {}` would need Config complete here: GCC
  // rejects a nested class's default member initializers used before the enclosing class ends).
  IceLiteAgent(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag = std::nullopt,
               std::string remote_pwd = {})
      : IceLiteAgent(std::move(local_ufrag), std::move(local_pwd), std::move(remote_ufrag), std::move(remote_pwd),
                     Config{}) {}

  // Handles one datagram that the demux classified as STUN (see stun::looks_like_stun):
  // the client's checks and its answers to ours. `local`: the address it was sent to, when
  // the socket reports it (else empty).
  Result handle_binding(ByteSpan data, const SocketAddress& from, Timestamp now, const SocketAddress& local = {});

  // Rule 4: DTLS or SRTP arrived from `from` (to `local`, when known), which is not the
  // selected address. True when that is a nominated, verified path and the selection moved
  // to it (the owner then sends there).
  bool follow_media(const SocketAddress& from, Timestamp now, const SocketAddress& local = {});
  // A nominated path that has not answered our request yet: the owner may hold its DTLS
  // until it does (and must send nothing but STUN to it meanwhile).
  bool awaits_verification(const SocketAddress& from, const SocketAddress& local = {}) const;
  bool is_verified(const SocketAddress& from, const SocketAddress& local = {}) const;

  // Moves kConnected to kDisconnected once consent has expired. Call at next_timeout();
  // handle_binding() also applies it, so a missed timer only delays the state change.
  void handle_timeout(Timestamp now);
  // True when an address was selected and no authenticated check has come from it for
  // consent_timeout. False before any nomination (the owner enforces a connect timeout).
  bool consent_expired(Timestamp now) const;
  // When consent will expire if nothing arrives; kNever before nomination.
  Timestamp next_timeout() const;

  State state() const { return state_; }
  // The nominated, verified address to send media to; nullopt unless kConnected.
  std::optional<SocketAddress> selected_address() const;
  // The local address of the selected path (the candidate the client nominated), to send
  // from; empty when the checks came without one.
  const SocketAddress& selected_local_address() const { return selected_local_; }

  // ICE restart (RFC 8445 §9): new local credentials (and the remote ufrag and password from
  // the new offer). The selected address and consent timer carry over so media keeps
  // flowing until the browser checks with the new credentials, and so do verified paths
  // (they still receive what we send). Until the first authenticated check of the new
  // generation, checks with the previous credentials are still answered (RFC 8445 §9:
  // "media continues to flow" on the previous generation while the restart completes; a
  // browser keeps sending consent checks on it until it has our answer) and for
  // `previous_generation_grace` after it; from then on they are rejected. Meanwhile the
  // browser's ufrag in a check may be of either generation (Chromium mixes them while it
  // switches); our ufrag picks our password, the browser's picks its password for our
  // request. A second restart before that forgets the oldest generation.
  void restart(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag,
               std::string remote_pwd);
  // The previous generation's local ufrag while its checks are still answered, else empty.
  const std::string& previous_local_ufrag() const;
  // Remote ufrag learned later (e.g. from a trickled or updated offer).
  void set_remote_ufrag(std::string remote_ufrag) { remote_ufrag_ = std::move(remote_ufrag); }

  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_pwd() const { return local_pwd_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Credentials {
    std::string local_ufrag;
    std::string local_pwd;
    std::optional<std::string> remote_ufrag;
    std::string remote_pwd;
  };
  struct Path {
    SocketAddress remote, local;
    bool in_use = false;
    bool nominated = false;  // an authenticated USE-CANDIDATE check came on it (rules 1, 4)
    bool verified = false;   // it answered our request: it receives what we send
    stun::TransactionId request_id{};  // of our verification request
    uint32_t request_generation = 0;    // whose remote password keyed it (generation_)
    Timestamp last_check{};
  };

  static bool username_matches(std::string_view username, std::string_view local_ufrag,
                               const std::optional<std::string>& remote_ufrag);
  // Forgets the previous generation once its grace period is over.
  void expire_previous(Timestamp now);
  Result handle_response(const stun::Message& msg, const SocketAddress& from, const SocketAddress& local,
                         Timestamp now);
  // MESSAGE-INTEGRITY keyed with the client's password that keyed our request on `p`.
  bool from_remote(const stun::Message& msg, const Path& p) const;
  // The path's entry, added (evicting the stalest unselected one) when new.
  size_t touch_path(const SocketAddress& from, const SocketAddress& local, Timestamp now, Result& result);
  Path* find_path(const SocketAddress& from, const SocketAddress& local);
  const Path* find_path(const SocketAddress& from, const SocketAddress& local) const;
  bool is_selected(const Path& p) const;
  bool address_in_use(const SocketAddress& remote) const;
  // Our verification request for `p`, answering a check with USERNAME `check_username`.
  std::optional<Bytes> verification_request(Path& p, std::string_view check_username);
  // The client's password for its ufrag `remote_ufrag`, and its generation; nullptr if unknown.
  const std::string* remote_pwd_for(std::string_view remote_ufrag, uint32_t* generation) const;
  // Withholds `bytes` when `p` is unverified and it is larger than `answered` bytes.
  void limit_to(std::optional<Bytes>& bytes, const Path* p, size_t answered, uint64_t& withheld) const;
  // Applies the selection rules above for an authenticated request; true when the selected
  // path changed.
  bool update_selection(const Path& p, bool use_candidate, Timestamp now);
  // The rules for path `i`, which just verified.
  bool on_verified(size_t i, Timestamp now);
  void select(const Path& p, Timestamp now);

  std::string local_ufrag_;
  std::string local_pwd_;
  std::optional<std::string> remote_ufrag_;
  std::string remote_pwd_;
  std::optional<Credentials> previous_;  // the generation before the last restart
  Timestamp previous_until_ = kNever;     // set when the new generation is first used
  uint32_t generation_ = 0;               // restarts so far
  Config config_;
  Counters counters_;
  State state_ = State::kNew;
  std::optional<SocketAddress> selected_;
  SocketAddress selected_local_;
  std::array<Path, kMaxPaths> paths_{};
  static constexpr size_t kNoPath = kMaxPaths;
  size_t last_nominated_ = kNoPath;  // rule 1: index of the path of the last USE-CANDIDATE check
  Timestamp last_selected_check_{};       // last authenticated check from selected_
};

}  // namespace strata::ice
