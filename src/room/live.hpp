// One live: its hosts in join order, its viewers' slots and its active speaker. Every
// mutation returns what it changed (changes.hpp). Single-threaded and pure; LiveDirectory
// owns the lives and the session ids across them.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "room/active_speaker.hpp"
#include "room/changes.hpp"
#include "room/room_types.hpp"
#include "room/slot_budget.hpp"
#include "room/viewer_slots.hpp"

namespace strata::room {

struct Config {
  // Nine hosts fill a 3×3 grid; beyond that each tile is too small to be worth its uplink.
  size_t max_hosts = 9;
  // As many slots as hosts, so one viewer can see everyone.
  size_t max_slots = 9;
  SpeakerConfig speaker;
};

struct ViewerSnapshot {
  SessionId viewer = 0;
  ViewerFilter filter;
  Slots slots;  // slot index → host name, nullopt when empty
};

struct LiveSnapshot {
  std::string live;
  std::vector<HostEntry> hosts;  // join order
  size_t viewer_count = 0;
  std::vector<ViewerSnapshot> viewers;  // by session id
  std::optional<std::string> speaker;
};

class Live {
 public:
  Live(std::string name, const Config& config);

  Result<Changes> add_host(std::string_view host, SessionId session, Timestamp now);
  Changes remove_host(SessionId session);
  Result<Changes> add_viewer(SessionId viewer, size_t slot_count, ViewerFilter filter);
  Changes remove_viewer(SessionId viewer);

  std::optional<SpeakerChange> on_audio_level(std::string_view host, uint8_t level, Timestamp now);
  std::optional<SpeakerChange> on_tick(Timestamp now) { return speaker_.on_tick(now); }

  // The viewer's slots for split_downlink(): a slot showing the speaker, or every filled
  // slot of a viewer pinned to one host (?host=), is favored. Empty when not a viewer here.
  std::vector<SlotKind> slot_kinds(SessionId viewer) const;

  bool empty() const { return hosts_.empty() && viewers_.empty(); }
  size_t viewer_count() const { return viewers_.size(); }
  LiveSnapshot snapshot() const;

 private:
  std::vector<HostEntry>::const_iterator find_host(SessionId session) const;
  std::optional<Error> check_new_host(std::string_view host) const;
  std::optional<Error> check_new_viewer(size_t slot_count, const ViewerFilter& filter) const;
  bool host_is_live(std::string_view host) const;
  // Lets every viewer fill its empty slots (after `leaving` is cleared), recording changes.
  void refill_viewers(std::optional<std::string_view> leaving, Changes& changes);
  Changes changes() const;

  std::string name_;
  Config config_;
  std::vector<HostEntry> hosts_;
  std::map<SessionId, ViewerSlots> viewers_;
  ActiveSpeaker speaker_;
};

}  // namespace strata::room
