// Verifies the per-packet path allocates nothing once an SSRC is known: both global
// operator new and OpenSSL's allocator (CRYPTO_set_mem_functions) are counted.
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "srtp/srtp_session.hpp"
#include "test_packets.hpp"

namespace {

std::atomic<size_t> g_allocations{0};

void* counting_malloc(size_t n, const char*, int) { ++g_allocations; return std::malloc(n); }
void* counting_realloc(void* p, size_t n, const char*, int) { ++g_allocations; return std::realloc(p, n); }
void counting_free(void* p, const char*, int) { std::free(p); }

// Must run before OpenSSL allocates anything, hence a static initializer.
const bool g_openssl_hooked =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

}  // namespace

// The replacement pair below is malloc/free based on purpose; GCC cannot see that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace strata::srtp {
namespace {

class AllocationTest : public ::testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(Profiles, AllocationTest,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm,
                                           SrtpProfile::kAes128CmHmacSha1_80),
                         [](const auto& info) {
                           return info.param == SrtpProfile::kAeadAes128Gcm ? "Gcm" : "CmSha1";
                         });

TEST_P(AllocationTest, PerPacketPathDoesNotAllocate) {
  if (!g_openssl_hooked) GTEST_SKIP() << "OpenSSL allocated before the hook was installed";
  const SrtpProfile profile = GetParam();
  Bytes key(srtp_key_length(profile), 1), salt(srtp_salt_length(profile), 2);
  const size_t at_start = g_allocations.load();
  auto tx = SrtpSession::create(profile, key, salt);
  EXPECT_GT(g_allocations.load(), at_start);  // the counters do see OpenSSL and new
  auto rx = SrtpSession::create(profile, key, salt);
  std::mt19937 rng(3);
  Bytes rtp = testing::make_rtp(42, 1, {1, 1, 1200}, rng);
  Bytes rtcp = testing::make_rtcp(42, 10, rng);
  Bytes buf(2000);
  size_t out = 0;
  auto round_trip = [&](uint16_t seq) {
    std::copy(rtp.begin(), rtp.end(), buf.begin());
    store_be16(&buf[2], seq);
    ASSERT_EQ(tx->protect_rtp(buf.data(), rtp.size(), buf.size(), &out), Status::kOk);
    ASSERT_EQ(rx->unprotect_rtp(buf.data(), out, &out), Status::kOk);
    std::copy(rtcp.begin(), rtcp.end(), buf.begin());
    ASSERT_EQ(tx->protect_rtcp(buf.data(), rtcp.size(), buf.size(), &out), Status::kOk);
    ASSERT_EQ(rx->unprotect_rtcp(buf.data(), out, &out), Status::kOk);
    buf[30] ^= 1;  // failures must not allocate either
    EXPECT_EQ(rx->unprotect_rtcp(buf.data(), out, &out), Status::kAuthFailed);
  };
  round_trip(1);  // first packet registers the SSRC (one allocation at most)
  const size_t before = g_allocations.load();
  for (uint16_t seq = 2; seq < 2000; ++seq) round_trip(seq);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

}  // namespace
}  // namespace strata::srtp
