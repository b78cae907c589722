// Replays the fuzz corpus in tests/data/fuzz/rtp/ through the libFuzzer entry point so
// every corpus file (and any future crash reproducer dropped there) runs as a unit test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FuzzReplay, CorpusFilesRunCleanly) {
  const std::filesystem::path dir = std::filesystem::path(STRATA_TESTDATA_DIR) / "fuzz" / "rtp";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto bytes = read_file(entry.path());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0);
    // Every prefix too: truncation is the most common real-world corruption.
    for (size_t len = 0; len < bytes.size(); ++len) {
      std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(len));
      LLVMFuzzerTestOneInput(prefix.data(), prefix.size());
    }
    ++files;
  }
  EXPECT_GE(files, 5u);
}

TEST(FuzzReplay, MutatedCorpusRunsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(STRATA_TESTDATA_DIR) / "fuzz" / "rtp";
  std::mt19937 rng(2024);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto original = read_file(entry.path());
    if (original.empty()) continue;
    for (int i = 0; i < 200; ++i) {
      auto bytes = original;
      for (int flips = 1 + int(rng() % 4); flips > 0; --flips) bytes[rng() % bytes.size()] ^= uint8_t(1u << (rng() % 8));
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
  }
}

}  // namespace
