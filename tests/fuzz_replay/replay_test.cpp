// Replays every fuzz corpus file in tests/data/fuzz/<target>/ through the same body the
// libFuzzer executable runs (fuzz/targets.hpp), so seeds and crash reproducers are
// regression tests in every build, with or without clang. One test per file, plus every
// prefix (truncation is the most common real-world corruption) and bit-flip mutations.
//
// A reproducer for a bug not fixed yet is committed as crash-<hash> and listed in
// kKnownCrashes: its test is skipped with the bug named, until the fix removes the entry.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "fuzz_keys.hpp"
#include "ice/ice_lite_agent.hpp"
#include "srtp/srtp_session.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

namespace fs = std::filesystem;
using OneInput = int (*)(const uint8_t*, size_t);

struct Target {
  const char* name;  // corpus folder under tests/data/fuzz/
  OneInput run;
  size_t min_files;  // guards against an emptied or misnamed corpus folder
  int bit_flips = 100;  // mutated copies of each file (cheap packet targets afford more)
};

// One row per fuzz target (fuzz/CMakeLists.txt's STRATA_FUZZ_TARGETS).
constexpr Target kTargets[] = {
    {"stun", &stun_one_input, 5},
    {"sdp", &sdp_one_input, 10},
    {"srtp", &srtp_one_input, 6},
    {"dtls", &dtls_one_input, 1},
    {"vp9", &vp9_one_input, 5},
    {"rtp", &rtp_one_input, 20, 200},
    {"sfu", &sfu_one_input, 8},
    {"jwt", &jwt_one_input, 8},
    {"api_json", &api_json_one_input, 6},
    {"dcep", &dcep_one_input, 6, 200},
    {"sctp", &sctp_one_input, 17, 200},
};

struct KnownCrash {
  const char* target;
  const char* file;
  const char* bug;  // what breaks, where; shown as the skip reason
};

// Empty: no open bugs. Add {"stun", "crash-<hash>", "..."} entries for unfixed reproducers.
const std::vector<KnownCrash> kKnownCrashes = {};

struct CorpusFile {
  const Target* target;
  fs::path path;
};

fs::path corpus_dir(const Target& t) { return fs::path(STRATA_TESTDATA_DIR) / "fuzz" / t.name; }

std::vector<CorpusFile> all_corpus_files() {
  std::vector<CorpusFile> out;
  for (const Target& t : kTargets) {
    std::error_code ec;
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(corpus_dir(t), ec)) {
      if (e.is_regular_file()) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (auto& p : paths) out.push_back({&t, std::move(p)});
  }
  return out;
}

std::vector<uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const KnownCrash* known_crash(const CorpusFile& f) {
  for (const KnownCrash& k : kKnownCrashes) {
    if (f.target->name == std::string_view(k.target) && f.path.filename() == k.file) return &k;
  }
  return nullptr;
}

// Exact-size heap copy per call so ASan builds catch reads past the end.
void run(OneInput fn, const std::vector<uint8_t>& bytes, size_t len) {
  std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + long(len));
  EXPECT_EQ(fn(copy.data(), copy.size()), 0);
}

class FuzzCorpus : public ::testing::TestWithParam<CorpusFile> {};

TEST_P(FuzzCorpus, WholeFileAndPrefixesRunCleanly) {
  const CorpusFile& f = GetParam();
  if (const KnownCrash* k = known_crash(f)) GTEST_SKIP() << "known crash, not fixed yet: " << k->bug;
  const auto bytes = read_file(f.path);
  run(f.target->run, bytes, bytes.size());
  // Every prefix for packets; about 256 evenly spaced ones for long inputs (SDP offers).
  const size_t step = std::max<size_t>(1, bytes.size() / 256);
  for (size_t len = 0; len < bytes.size(); len += step) run(f.target->run, bytes, len);
}

TEST_P(FuzzCorpus, BitFlipsRunCleanly) {
  const CorpusFile& f = GetParam();
  if (const KnownCrash* k = known_crash(f)) GTEST_SKIP() << "known crash, not fixed yet: " << k->bug;
  const auto original = read_file(f.path);
  if (original.empty()) GTEST_SKIP() << "empty file";
  std::mt19937 rng(uint32_t(std::hash<std::string>()(f.path.filename().string())));
  for (int i = 0; i < f.target->bit_flips; ++i) {
    auto bytes = original;
    for (int flips = 1 + int(rng() % 4); flips > 0; --flips) bytes[rng() % bytes.size()] ^= uint8_t(1u << (rng() % 8));
    run(f.target->run, bytes, bytes.size());
  }
}

std::string test_name(const ::testing::TestParamInfo<CorpusFile>& info) {
  std::string name = std::string(info.param.target->name) + "_" + info.param.path.filename().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, FuzzCorpus, ::testing::ValuesIn(all_corpus_files()), test_name);

TEST(FuzzCorpusLayout, EveryTargetHasSeeds) {
  for (const Target& t : kTargets) {
    const auto files = all_corpus_files();
    size_t n = size_t(std::count_if(files.begin(), files.end(), [&](const CorpusFile& f) { return f.target == &t; }));
    EXPECT_GE(n, t.min_files) << corpus_dir(t);
  }
}

TEST(FuzzCorpusLayout, KnownCrashesPointAtExistingFiles) {
  for (const KnownCrash& k : kKnownCrashes) {
    EXPECT_TRUE(fs::exists(fs::path(STRATA_TESTDATA_DIR) / "fuzz" / k.target / k.file)) << k.file;
  }
}

// Random bytes of every length up to 300: the cases a corpus does not naturally hold.
TEST(FuzzTargets, RandomBytesRunCleanly) {
  std::mt19937 rng(8489);
  for (const Target& t : kTargets) {
    SCOPED_TRACE(t.name);
    for (size_t len = 0; len < 300; ++len) {
      std::vector<uint8_t> bytes(len);
      for (auto& b : bytes) b = uint8_t(rng());
      run(t.run, bytes, bytes.size());
    }
  }
}

// The seeds are only worth having if they reach the success paths behind the checks a
// mutated packet usually fails: regenerate them (fuzz/seed_generator.cpp) when these fail.
TEST(FuzzSeeds, SrtpSeedsAuthenticateWithTheFuzzKeys) {
  struct Case { const char* file; SrtpProfile profile; bool rtcp; };
  for (Case c : {Case{"srtp_gcm_plain.bin", SrtpProfile::kAeadAes128Gcm, false},
                 Case{"srtp_gcm_csrc_ext.bin", SrtpProfile::kAeadAes128Gcm, false},
                 Case{"srtcp_gcm_sr.bin", SrtpProfile::kAeadAes128Gcm, true},
                 Case{"srtp_cm_plain.bin", SrtpProfile::kAes128CmHmacSha1_80, false},
                 Case{"srtp_cm_csrc_ext.bin", SrtpProfile::kAes128CmHmacSha1_80, false},
                 Case{"srtcp_cm_sr.bin", SrtpProfile::kAes128CmHmacSha1_80, true}}) {
    SCOPED_TRACE(c.file);
    auto bytes = read_file(fs::path(STRATA_TESTDATA_DIR) / "fuzz" / "srtp" / c.file);
    auto rx = srtp::SrtpSession::create(c.profile, fuzz_master_key(), fuzz_master_salt(c.profile));
    ASSERT_NE(rx, nullptr);
    size_t len = 0;
    auto st = c.rtcp ? rx->unprotect_rtcp(bytes.data(), bytes.size(), &len)
                     : rx->unprotect_rtp(bytes.data(), bytes.size(), &len);
    EXPECT_EQ(st, srtp::Status::kOk) << srtp::to_string(st);
  }
}

TEST(FuzzSeeds, StunSeedsAuthenticateWithTheFuzzAgent) {
  for (const char* file : {"rfc5769_request.bin", "binding_use_candidate.bin", "binding_role_conflict.bin"}) {
    SCOPED_TRACE(file);
    auto bytes = read_file(fs::path(STRATA_TESTDATA_DIR) / "fuzz" / "stun" / file);
    // Same credentials as fuzz/stun_target.cpp (the RFC 5769 §2.1 request's).
    ice::IceLiteAgent agent("evtj", "VOkJxbRl1RmTxUk/WvJxBt", std::string("h6vY"));
    auto r = agent.handle_binding(bytes, *SocketAddress::parse("192.0.2.1:5000"), FakeClock().now());
    EXPECT_TRUE(r.response.has_value());
  }
}

}  // namespace
}  // namespace strata::fuzz
