// What a mutation of a live changed, as data: the caller pushes it to the live's event
// stream and rewires fan-out (which host's packets go to which viewer slot) from it, so it
// never has to diff snapshots itself.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "room/room_types.hpp"

namespace strata::room {

struct HostEntry {
  std::string name;
  SessionId session = 0;
  Timestamp joined_at{};
  bool operator==(const HostEntry&) const = default;
};

struct HostChange {
  enum class Kind { kJoined, kLeft };
  Kind kind;
  HostEntry host;
  bool operator==(const HostChange&) const = default;
};

// One slot of one viewer now shows `current` instead of `previous` (nullopt: empty). A host
// leaving whose slot is taken over by the next host is one change, previous → current.
struct SlotChange {
  SessionId viewer = 0;
  size_t slot = 0;
  std::optional<std::string> previous;
  std::optional<std::string> current;
  bool operator==(const SlotChange&) const = default;
};

struct SpeakerChange {
  std::optional<std::string> previous;
  std::optional<std::string> current;  // nullopt: nobody is speaking
  bool operator==(const SpeakerChange&) const = default;
};

struct Changes {
  std::string live;  // empty when the call changed nothing (unknown session)
  std::vector<HostChange> hosts;
  std::vector<SlotChange> slots;
  std::optional<SpeakerChange> speaker;
  // The live has no host and no viewer left and was forgotten: its event stream can close.
  bool live_closed = false;

  bool empty() const { return hosts.empty() && slots.empty() && !speaker && !live_closed; }
};

}  // namespace strata::room
