#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sdp/session_description.hpp"

namespace strata::sdp::testing {

inline std::string sdp_dir() { return std::string(STRATA_TESTDATA_DIR) + "/sdp"; }

inline std::string read_sdp(const std::string& name) {
  std::ifstream in(sdp_dir() + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every "*offer.sdp" fixture, sorted, so new captures are picked up automatically.
inline std::vector<std::string> offer_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(sdp_dir())) {
    std::string name = e.path().filename().string();
    if (name.size() > 9 && name.substr(name.size() - 9) == "offer.sdp") out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline SessionDescription parse_ok(const std::string& text) {
  auto r = parse(text);
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << "parse failed: " << e->detail;
  auto* s = std::get_if<SessionDescription>(&r);
  return s ? *s : SessionDescription{};
}

// Removes every line that starts with `prefix`.
inline std::string drop_lines(const std::string& text, const std::string& prefix) {
  std::stringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) != 0) out += line + "\n";
  return out;
}

}  // namespace strata::sdp::testing
