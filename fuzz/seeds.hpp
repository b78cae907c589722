// Shared by the seed generator's files (seed_generator.cpp, media_seeds.cpp).
#pragma once
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/bytes.hpp"

namespace strata::fuzz {

inline void write_seed(const std::filesystem::path& dir, const std::string& name, ByteSpan bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  std::printf("%s/%s (%zu bytes)\n", dir.c_str(), name.c_str(), bytes.size());
}

// tests/data/fuzz/rtp: RTP packets with each extension form and codec payload, and RTCP
// compounds with every sub-packet type the server parses, built with the project's builders.
void rtp_seeds(const std::filesystem::path& dir);
// tests/data/fuzz/sfu: record streams (fuzz/sfu_target.cpp) of host media, RTX, reports,
// viewer feedback and ticks.
void sfu_seeds(const std::filesystem::path& dir);

}  // namespace strata::fuzz
