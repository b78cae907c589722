// Vocabulary of the room module (issue 11, lives with several hosts). One word, one meaning:
//   live   — a room, addressed by the stream name of /whip/{live} and /whep/{live};
//   host   — a WHIP session publishing into a live under a name unique in that live;
//   viewer — a WHEP session watching a live through K ≥ 1 slots;
//   slot   — one recvonly video m-line of a viewer's offer, showing at most one host.
// Sessions are opaque ids chosen by the caller; the room module never sees SDP or sockets.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace strata::room {

using SessionId = uint64_t;

// The name a host gets when its WHIP request has no ?host=. "host" rather than an empty
// name: it passes the same name rule as every other host, reads well in events and admin
// JSON, and a viewer can address it with ?host=host. A second WHIP without ?host= into the
// same live therefore conflicts (host-taken), as a second publisher did before issue 11.
inline constexpr std::string_view kDefaultHost = "host";

// [A-Za-z0-9_-]{1,64}: safe in URLs, JSON and logs without escaping.
bool valid_host_name(std::string_view name);

// The HTTP layer maps these later: kHostTaken and kTooManyHosts → 409, kUnknownHost → 404,
// kBadHostName and kBadSlotCount → 400, kSessionInUse → 500 (a caller bug).
enum class ErrorCode {
  kBadHostName,
  kHostTaken,
  kTooManyHosts,
  kUnknownHost,
  kBadSlotCount,
  kSessionInUse,
};

// Machine-readable code, kebab-case like the API's other errors ("host-taken").
const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string detail;  // what was wrong, for people
};

// No exceptions: a call either yields its value or says why not.
template <class T>
using Result = std::variant<T, Error>;

// Which of a live's hosts a viewer's slots may show.
struct ViewerFilter {
  enum class Kind { kAll, kOnly, kExclude };
  Kind kind = Kind::kAll;
  std::string host;  // for kOnly and kExclude

  static ViewerFilter all() { return {}; }
  static ViewerFilter only(std::string host) { return {Kind::kOnly, std::move(host)}; }
  static ViewerFilter exclude(std::string host) { return {Kind::kExclude, std::move(host)}; }

  bool admits(std::string_view name) const;
  bool operator==(const ViewerFilter&) const = default;
};

}  // namespace strata::room
