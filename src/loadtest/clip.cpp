#include "loadtest/clip.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace strata::loadtest {
namespace fs = std::filesystem;

#ifndef STRATA_BUILD_DIR
#define STRATA_BUILD_DIR "."
#endif
#ifndef STRATA_SOURCE_DIR
#define STRATA_SOURCE_DIR "."
#endif

std::string default_media_dir() {
  std::string build = STRATA_BUILD_DIR;
  if (::access(build.c_str(), W_OK) == 0) return build + "/bench-media";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/strata/bench-media";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.cache/strata/bench-media";
}

std::optional<std::string> ensure_clip(const std::string& media_dir, uint64_t top_bitrate, bool quiet, std::string* error) {
  std::string dir = fmt::format("{}/{}", media_dir, top_bitrate);
  bool complete = true;
  for (const char* f : {"q.ivf", "h.ivf", "f.ivf", "audio.ogg"}) complete = complete && fs::exists(dir + "/" + f);
  if (complete) return dir;
  std::string script = std::string(STRATA_SOURCE_DIR) + "/bench/media/make-clip.sh";
  if (!fs::exists(script)) {
    *error = "no clip in " + dir + " and no generator at " + script;
    return std::nullopt;
  }
  if (!quiet) std::fprintf(stderr, "bench: generating the %llu bit/s clip into %s (ffmpeg, once)...\n",
                           static_cast<unsigned long long>(top_bitrate), dir.c_str());
  std::string cmd = fmt::format("'{}' '{}' {}", script, dir, top_bitrate);
  if (std::system(cmd.c_str()) != 0) {
    *error = "clip generation failed: " + cmd;
    return std::nullopt;
  }
  return dir;
}

std::optional<Clip> load_clip(const std::string& dir, bool simulcast, std::string* error) {
  Clip clip;
  std::vector<std::string> rids = simulcast ? std::vector<std::string>{"q", "h", "f"} : std::vector<std::string>{"f"};
  for (auto& rid : rids) {
    auto bytes = read_file(dir + "/" + rid + ".ivf", error);
    if (!bytes) return std::nullopt;
    auto ivf = parse_ivf(*bytes, error);
    if (!ivf) return std::nullopt;
    clip.layers.push_back(std::move(*ivf));
  }
  clip.rids = rids;
  auto audio = read_file(dir + "/audio.ogg", error);
  if (!audio) return std::nullopt;
  auto opus = parse_ogg_opus(*audio, error);
  if (!opus) return std::nullopt;
  clip.audio = std::move(*opus);
  return clip;
}

}  // namespace strata::loadtest
