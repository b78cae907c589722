// The live directory: every live on this server, who hosts it and who views it through
// which slots (issue 11, lives with several hosts). Pure and single-threaded: no HTTP, no
// sockets, no clock, no locks. The signaling layer calls it under its own lock, maps errors
// to HTTP statuses and turns the returned Changes into events and fan-out rewiring.
//
// A live exists while it has a host or a viewer: a viewer may wait in a live whose hosts
// have not joined yet (its slots stay empty), and the live is forgotten when the last host
// and viewer are gone (Changes::live_closed).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/time.hpp"
#include "room/changes.hpp"
#include "room/live.hpp"
#include "room/room_types.hpp"
#include "room/slot_budget.hpp"

namespace strata::room {

class LiveDirectory {
 public:
  explicit LiveDirectory(Config config = {});

  // `host` as given by ?host=; the caller passes kDefaultHost when there is none.
  // Errors: kBadHostName, kHostTaken, kTooManyHosts, kSessionInUse.
  Result<Changes> add_host(std::string_view live, std::string_view host, SessionId session, Timestamp now);
  // Unknown sessions change nothing, so a session that ends twice is harmless.
  Changes remove_host(SessionId session);

  // `slot_count`: the recvonly video m-lines of the viewer's offer.
  // Errors: kBadSlotCount, kBadHostName (filter), kUnknownHost (only()), kSessionInUse.
  Result<Changes> add_viewer(std::string_view live, SessionId viewer, size_t slot_count, ViewerFilter filter);
  Changes remove_viewer(SessionId viewer);

  // `level`: RFC 6464 audio level of one of the host's packets (-dBov, 127 = silence).
  // Reports for unknown lives or hosts are ignored (they race with leaving).
  std::optional<SpeakerChange> on_audio_level(std::string_view live, std::string_view host, uint8_t level,
                                              Timestamp now);
  // Lets speakers who went quiet without sending levels lose the highlight; call every
  // 100–250 ms. One Changes (speaker only) per live whose speaker changed.
  std::vector<Changes> on_tick(Timestamp now);

  std::optional<LiveSnapshot> snapshot(std::string_view live) const;
  std::vector<std::string> lives() const;
  // The live's viewers; 0 for an unknown live. Cheap (no snapshot).
  size_t viewer_count(std::string_view live) const;
  // For split_downlink(); nullopt when `viewer` is not a viewer session.
  std::optional<std::vector<SlotKind>> slot_kinds(SessionId viewer) const;

  const Config& config() const { return config_; }

 private:
  bool session_in_use(SessionId session) const;
  Live& live_for(std::string_view live);
  // Forgets the live if it is empty, and says so in `changes`.
  void close_if_empty(const std::string& live, Changes* changes);

  Config config_;
  std::map<std::string, Live, std::less<>> lives_;
  std::unordered_map<SessionId, std::string> host_lives_;    // host session → live
  std::unordered_map<SessionId, std::string> viewer_lives_;  // viewer session → live
};

}  // namespace strata::room
