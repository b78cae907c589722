// The pre-encoded source the bench publisher replays: VP8 layers (q/h/f) and Opus,
// generated once per top bitrate by bench/media/make-clip.sh into a cache directory.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loadtest/media_file.hpp"

namespace strata::loadtest {

struct Clip {
  std::vector<IvfFile> layers;  // simulcast: q, h, f (low to high); otherwise just f
  std::vector<std::string> rids;
  OpusFile audio;
};

// The default cache: $STRATA_BUILD_DIR/bench-media when writable, else
// $XDG_CACHE_HOME/strata/bench-media (or ~/.cache/strata/bench-media).
std::string default_media_dir();
// "<media_dir>/<bitrate>" holding q.ivf, h.ivf, f.ivf, audio.ogg; runs make-clip.sh when a
// file is missing. Returns the directory, or nullopt with *error.
std::optional<std::string> ensure_clip(const std::string& media_dir, uint64_t top_bitrate, bool quiet, std::string* error);
std::optional<Clip> load_clip(const std::string& clip_dir, bool simulcast, std::string* error);

}  // namespace strata::loadtest
