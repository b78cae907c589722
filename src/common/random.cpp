#include "common/random.hpp"

#include <openssl/rand.h>

#include <vector>

namespace strata {

static void fill(void* p, size_t n) {
  // RAND_bytes only fails when the CSPRNG cannot be seeded; there is no safe fallback.
  if (RAND_bytes(static_cast<unsigned char*>(p), int(n)) != 1) std::abort();
}

uint32_t random_u32() { uint32_t v; fill(&v, sizeof v); return v; }
uint64_t random_u64() { uint64_t v; fill(&v, sizeof v); return v; }

std::string random_ice_string(size_t length) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> r(length);
  fill(r.data(), r.size());
  std::string s(length, 'a');
  for (size_t i = 0; i < length; ++i) s[i] = kChars[r[i] & 63];
  return s;
}

std::string random_hex(size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::vector<uint8_t> r(length);
  fill(r.data(), r.size());
  std::string s(length, '0');
  for (size_t i = 0; i < length; ++i) s[i] = kDigits[r[i] & 15];
  return s;
}

}  // namespace strata
