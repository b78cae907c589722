#include "auth/grant.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace strata::auth {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace

const char* to_string(Action action) {
  switch (action) {
    case Action::kPublish: return "publish";
    case Action::kView: return "view";
    case Action::kAdmin: return "admin";
  }
  return "?";
}

std::optional<Action> action_from_name(std::string_view name) {
  if (name == "publish") return Action::kPublish;
  if (name == "view") return Action::kView;
  if (name == "admin") return Action::kAdmin;
  return std::nullopt;
}

bool Grant::covers_live(std::string_view live_name) const {
  if (live.empty()) return false;
  if (live == "*") return true;
  if (live.back() == '*') return live_name.substr(0, live.size() - 1) == std::string_view(live).substr(0, live.size() - 1);
  return live_name == live;
}

bool Grant::allows(Action action) const {
  switch (action) {
    case Action::kPublish: return publish;
    case Action::kView: return view;
    case Action::kAdmin: return admin;
  }
  return false;
}

bool valid_live_pattern(std::string_view pattern) {
  if (pattern == "*") return true;
  std::string_view name = pattern;
  if (!name.empty() && name.back() == '*') name.remove_suffix(1);
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

std::optional<Grant> grant_from_claims(const nlohmann::json& claims, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Grant> {
    *error = std::move(why);
    return std::nullopt;
  };
  Grant g;
  if (auto sub = claims.find("sub"); sub != claims.end()) {
    if (!sub->is_string()) return fail("\"sub\" is not a string");
    g.subject = sub->get<std::string>();
  }
  auto strata = claims.find("strata");
  if (strata == claims.end()) return g;  // authenticated, no rights
  if (!strata->is_object()) return fail("\"strata\" is not an object");
  for (const auto& [key, value] : strata->items()) {
    if (key == "live") {
      if (!value.is_string() || !valid_live_pattern(value.get<std::string>()))
        return fail("\"strata.live\" must be a live name, \"<prefix>*\" or \"*\"");
      g.live = value.get<std::string>();
    } else if (auto action = action_from_name(key)) {
      if (!value.is_boolean()) return fail("\"strata." + key + "\" is not a boolean");
      const bool on = value.get<bool>();
      if (*action == Action::kPublish) g.publish = on;
      if (*action == Action::kView) g.view = on;
      if (*action == Action::kAdmin) g.admin = on;
    } else {
      return fail("\"strata\" has an unknown member \"" + key + "\" (known: live, publish, view, admin)");
    }
  }
  return g;
}

}  // namespace strata::auth
