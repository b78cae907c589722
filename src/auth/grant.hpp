// What a verified access token allows: the "strata" claim (README, "Access control"):
//   "strata": {"live": "<name>" | "<prefix>*" | "*", "publish": bool, "view": bool, "admin": bool}
// Every right applies to the lives "live" matches; without "live" the token grants nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace strata::auth {

enum class Action { kPublish, kView, kAdmin };
const char* to_string(Action action);
std::optional<Action> action_from_name(std::string_view name);

struct Grant {
  std::string subject;  // "sub", or empty
  std::string live;     // the pattern; empty = no live
  bool publish = false, view = false, admin = false;
  int64_t expires_at = 0;  // "exp", Unix seconds

  // "*" every live, "p*" every live whose name starts with p, else exactly that name.
  bool covers_live(std::string_view live_name) const;
  bool covers_every_live() const { return live == "*"; }
  bool allows(Action action) const;
};

// A live name ([A-Za-z0-9_.-]{1,64}), "*", or such a name's prefix followed by '*'.
bool valid_live_pattern(std::string_view pattern);

// The grant in verified claims. nullopt with *error when "sub" or "strata" is malformed
// (wrong types, a bad live pattern, unknown members of "strata": a typo such as
// "pubilsh" must not silently grant less than its issuer meant without saying so).
std::optional<Grant> grant_from_claims(const nlohmann::json& claims, std::string* error);

}  // namespace strata::auth
