// SRTP fuzz body. Two views of the input, for both profiles:
//  1. as received SRTP/SRTCP: unprotect with the fixed keys (seeds protected with the same
//     keys authenticate, so mutations of them reach header parsing, replay and decrypt);
//  2. as plaintext RTP/RTCP: protect, then unprotect on a fresh receiver, which must give
//     back the original bytes (any header shape the sender accepts must round-trip).
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_keys.hpp"
#include "srtp/srtp_session.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

volatile size_t g_sink = 0;

std::unique_ptr<srtp::SrtpSession> make_session(SrtpProfile profile) {
  auto s = srtp::SrtpSession::create(profile, fuzz_master_key(), fuzz_master_salt(profile));
  STRATA_FUZZ_CHECK("srtp", s != nullptr);
  return s;
}

using UnprotectFn = srtp::Status (srtp::SrtpSession::*)(uint8_t*, size_t, size_t*);
using ProtectFn = srtp::Status (srtp::SrtpSession::*)(uint8_t*, size_t, size_t, size_t*);

// Unprotects the input (exact-size copy, so ASan sees any overread), then a second time:
// an authenticated packet must now be rejected as a replay.
void unprotect_input(srtp::SrtpSession& rx, UnprotectFn unprotect, const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  size_t out_len = 0;
  srtp::Status st = (rx.*unprotect)(buf.data(), buf.size(), &out_len);
  if (st == srtp::Status::kOk) {
    STRATA_FUZZ_CHECK("srtp", out_len <= size);
    std::vector<uint8_t> again(data, data + size);
    size_t again_len = 0;
    STRATA_FUZZ_CHECK("srtp", (rx.*unprotect)(again.data(), again.size(), &again_len) != srtp::Status::kOk);
  }
  g_sink = g_sink + size_t(st) + out_len;
}

void round_trip(SrtpProfile profile, ProtectFn protect, UnprotectFn unprotect, const uint8_t* data, size_t size) {
  auto tx = make_session(profile);
  std::vector<uint8_t> buf(size + kSrtpMaxTrailer);
  if (size > 0) std::memcpy(buf.data(), data, size);
  size_t protected_len = 0;
  if ((tx.get()->*protect)(buf.data(), size, buf.size(), &protected_len) != srtp::Status::kOk) return;
  STRATA_FUZZ_CHECK("srtp", protected_len > size && protected_len <= buf.size());
  buf.resize(protected_len);  // exact size again for the receiver
  auto rx = make_session(profile);
  size_t plain_len = 0;
  STRATA_FUZZ_CHECK("srtp", (rx.get()->*unprotect)(buf.data(), buf.size(), &plain_len) == srtp::Status::kOk);
  STRATA_FUZZ_CHECK("srtp", plain_len == size);
  STRATA_FUZZ_CHECK("srtp", size == 0 || std::memcmp(buf.data(), data, size) == 0);
}

}  // namespace

int srtp_one_input(const uint8_t* data, size_t size) {
  for (SrtpProfile profile : {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmHmacSha1_80}) {
    auto rx = make_session(profile);
    unprotect_input(*rx, &srtp::SrtpSession::unprotect_rtp, data, size);
    unprotect_input(*rx, &srtp::SrtpSession::unprotect_rtcp, data, size);
    round_trip(profile, &srtp::SrtpSession::protect_rtp, &srtp::SrtpSession::unprotect_rtp, data, size);
    round_trip(profile, &srtp::SrtpSession::protect_rtcp, &srtp::SrtpSession::unprotect_rtcp, data, size);
  }
  return 0;
}

}  // namespace strata::fuzz
