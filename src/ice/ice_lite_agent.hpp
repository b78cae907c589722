// Server side of ICE-lite (RFC 8445 §2.5, §7.3) for one session, sans-IO.
//
// The SFU is a lite agent: it has host candidates only, never sends checks, and is always
// the controlled agent. It answers authenticated Binding requests, follows the browser's
// nomination (USE-CANDIDATE) to pick the address to send media to, and tracks consent
// freshness (RFC 7675) from the checks the browser keeps sending.
//
// A path is the check's source address and, when the server advertises several host
// candidates on one wildcard socket, the local address it was sent to (the candidate the
// client checked): media must leave from that address too, or the client does not
// recognise the pair (RFC 8445 §7.2.5.2.1 symmetry). With one bound address the local
// address is left empty and only the source counts.
//
// Path selection rules (kept deliberately simple):
//  1. An authenticated request with USE-CANDIDATE selects its path, replacing any previous
//     one (renomination, client address change).
//  2. An authenticated request without USE-CANDIDATE on another path replaces the
//     selected one only when the selected path has been silent (no authenticated
//     check) for `Config::switch_after_silence`: the path died and the browser's consent
//     checks now arrive from a new NAT binding without renominating.
//  3. Consent (RFC 7675 §5.1) is refreshed only by authenticated checks on the selected
//     path; after `Config::consent_timeout` without one the state becomes
//     kDisconnected and selected_address() returns nullopt, so the owner stops sending.
//     A later USE-CANDIDATE check reconnects.
//  4. DTLS or SRTP arriving on another path that an authenticated USE-CANDIDATE check
//     nominated (follow_media) moves the selection there. A controlling agent that
//     nominates several pairs at once (aggressive nomination, RFC 5245 §8.1.1.2; our own
//     edge relays and bench viewers do) uses the first pair whose check succeeds, which
//     need not be the one whose check reached us last: under load we selected one path
//     while the client sent its DTLS on the other, and dropped every ClientHello until
//     rule 2 switched 8+ s later (15 s connections for ~1/3 of a 500-viewer join). Only
//     nominated paths count, so an off-path sender cannot move media anywhere.
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

namespace strata::ice {

class IceLiteAgent {
 public:
  enum class State { kNew, kConnected, kDisconnected };

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
  };

  // Why packets were dropped or what was answered. Every handle_binding() call bumps
  // exactly one of the outcome counters (the first seven) plus possibly `nominations`
  // and `address_switches`.
  struct Counters {
    uint64_t success_responses = 0;  // authenticated Binding requests answered
    uint64_t role_conflicts = 0;     // 487 sent (peer claimed ICE-CONTROLLED)
    uint64_t malformed = 0;          // not a valid STUN message
    uint64_t not_binding_request = 0;  // indications, responses, other methods: ignored
    uint64_t bad_fingerprint = 0;    // FINGERPRINT present but wrong
    uint64_t bad_username = 0;       // USERNAME missing or not "<local>:<remote>"
    uint64_t bad_integrity = 0;      // MESSAGE-INTEGRITY missing or wrong
    uint64_t nominations = 0;        // USE-CANDIDATE accepted (incl. repeats)
    uint64_t address_switches = 0;   // selected path changed from one to another
    uint64_t consent_expirations = 0;
  };

  struct Result {
    std::optional<Bytes> response;  // send back to `from`, from `local`, when set
    bool authenticated = false;     // USERNAME and MESSAGE-INTEGRITY checked out
    bool nominated_changed = false;  // the selected path changed (or was first set)
  };

  IceLiteAgent(std::string local_ufrag, std::string local_pwd,
               std::optional<std::string> remote_ufrag = std::nullopt);
  IceLiteAgent(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag,
               Config config);

  // Handles one datagram that the demux classified as STUN (see stun::looks_like_stun).
  // `local`: the address it was sent to, when the socket reports it (else empty).
  Result handle_binding(ByteSpan data, const SocketAddress& from, Timestamp now, const SocketAddress& local = {});

  // Rule 4: DTLS or SRTP arrived from `from`, which is not the selected address. True when
  // `from` is a nominated path and the selection moved to it (the owner then sends there).
  bool follow_media(const SocketAddress& from, Timestamp now);

  // Moves kConnected to kDisconnected once consent has expired. Call at next_timeout();
  // handle_binding() also applies it, so a missed timer only delays the state change.
  void handle_timeout(Timestamp now);
  // True when an address was selected and no authenticated check has come from it for
  // consent_timeout. False before any nomination (the owner enforces a connect timeout).
  bool consent_expired(Timestamp now) const;
  // When consent will expire if nothing arrives; kNever before nomination.
  Timestamp next_timeout() const;

  State state() const { return state_; }
  // The nominated address to send media to; nullopt unless kConnected.
  std::optional<SocketAddress> selected_address() const;
  // The local address of the selected path (the candidate the client nominated), to send
  // from; empty when the checks came without one.
  const SocketAddress& selected_local_address() const { return selected_local_; }

  // ICE restart (RFC 8445 §9): new local credentials (and the remote ufrag from the new
  // offer, if known). The selected address and consent timer carry over so media keeps
  // flowing until the browser checks with the new credentials. Until the first
  // authenticated check of the new generation, checks with the previous credentials are
  // still answered (RFC 8445 §9: "media continues to flow" on the previous generation while
  // the restart completes; a browser keeps sending consent checks on it until it has our
  // answer) and for `previous_generation_grace` after it; from then on they are rejected.
  // Meanwhile the browser's ufrag in a check may be of either generation (Chromium mixes
  // them while it switches); our ufrag picks the password. A second restart before that
  // forgets the oldest generation.
  void restart(std::string local_ufrag, std::string local_pwd, std::optional<std::string> remote_ufrag);
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
  };
  static bool username_matches(std::string_view username, std::string_view local_ufrag,
                               const std::optional<std::string>& remote_ufrag);
  void remember_nominated(const SocketAddress& from, const SocketAddress& local);
  // Forgets the previous generation once its grace period is over.
  void expire_previous(Timestamp now);
  // Applies the selection rules above for an authenticated request; true when the
  // selected address changed.
  bool update_selection(const SocketAddress& from, const SocketAddress& local, bool use_candidate, Timestamp now);

  std::string local_ufrag_;
  std::string local_pwd_;
  std::optional<std::string> remote_ufrag_;
  std::optional<Credentials> previous_;  // the generation before the last restart
  Timestamp previous_until_ = kNever;     // set when the new generation is first used
  Config config_;
  Counters counters_;
  State state_ = State::kNew;
  std::optional<SocketAddress> selected_;
  SocketAddress selected_local_;
  // The last few nominated paths (rule 4); a client nominates one or two, rarely more.
  struct Path {
    SocketAddress remote, local;
  };
  std::array<Path, 4> nominated_paths_{};
  size_t next_nominated_ = 0;
  Timestamp last_selected_check_{};  // last authenticated check from selected_
};

}  // namespace strata::ice
