#include "room/room_types.hpp"

#include <algorithm>

namespace strata::room {

bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadHostName: return "bad-host-name";
    case ErrorCode::kHostTaken: return "host-taken";
    case ErrorCode::kTooManyHosts: return "too-many-hosts";
    case ErrorCode::kUnknownHost: return "unknown-host";
    case ErrorCode::kBadSlotCount: return "bad-slot-count";
    case ErrorCode::kSessionInUse: return "session-in-use";
  }
  return "unknown";
}

bool ViewerFilter::admits(std::string_view name) const {
  switch (kind) {
    case Kind::kAll: return true;
    case Kind::kOnly: return name == host;
    case Kind::kExclude: return name != host;
  }
  return false;
}

}  // namespace strata::room
