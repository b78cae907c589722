// Scripted steps against a LiveDirectory, with slot changes rendered compactly so a test
// table can say what each step must change: "7#0:a>c" = viewer 7's slot 0 went from host a
// to host c; "-" = empty.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "room/live_directory.hpp"

namespace strata::room::test {

inline std::string render(const std::vector<SlotChange>& changes) {
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) out += ' ';
    out += std::to_string(c.viewer) + '#' + std::to_string(c.slot) + ':' + c.previous.value_or("-") + '>' +
           c.current.value_or("-");
  }
  return out;
}

inline std::string render(const Slots& slots) {
  std::string out;
  for (const auto& slot : slots) {
    if (!out.empty()) out += ',';
    out += slot.value_or("-");
  }
  return out;
}

struct Step {
  enum Kind { kAddHost, kRemoveHost, kAddViewer, kRemoveViewer } kind;
  std::string live;
  std::string host;  // kAddHost: the host's name
  SessionId session = 0;
  size_t slot_count = 0;
  ViewerFilter filter;
  std::optional<ErrorCode> want_error;
  std::string want_slots;  // render() of the slot changes
};

inline Step add_host(std::string live, std::string host, SessionId session, std::string want_slots = "") {
  return {Step::kAddHost, std::move(live), std::move(host), session, 0, {}, std::nullopt, std::move(want_slots)};
}
inline Step remove_host(SessionId session, std::string want_slots = "") {
  return {Step::kRemoveHost, "", "", session, 0, {}, std::nullopt, std::move(want_slots)};
}
inline Step add_viewer(std::string live, SessionId viewer, size_t slots, ViewerFilter filter,
                       std::string want_slots = "") {
  return {Step::kAddViewer, std::move(live), "", viewer, slots, std::move(filter), std::nullopt, std::move(want_slots)};
}
inline Step remove_viewer(SessionId viewer, std::string want_slots = "") {
  return {Step::kRemoveViewer, "", "", viewer, 0, {}, std::nullopt, std::move(want_slots)};
}
inline Step fails(Step step, ErrorCode code) {
  step.want_error = code;
  return step;
}

// Runs one step; returns the error code (nullopt on success) and the changes.
inline std::pair<std::optional<ErrorCode>, Changes> run(LiveDirectory& dir, const Step& s, Timestamp now) {
  Result<Changes> result = Changes{};
  switch (s.kind) {
    case Step::kAddHost: result = dir.add_host(s.live, s.host, s.session, now); break;
    case Step::kRemoveHost: result = dir.remove_host(s.session); break;
    case Step::kAddViewer: result = dir.add_viewer(s.live, s.session, s.slot_count, s.filter); break;
    case Step::kRemoveViewer: result = dir.remove_viewer(s.session); break;
  }
  if (auto* error = std::get_if<Error>(&result)) return {error->code, {}};
  return {std::nullopt, std::get<Changes>(result)};
}

}  // namespace strata::room::test
