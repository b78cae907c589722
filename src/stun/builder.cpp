#include "stun/builder.hpp"

#include <cstring>

#include "common/random.hpp"
#include "stun/crc32.hpp"
#include "stun/hmac_sha1.hpp"

namespace strata::stun {
namespace {
constexpr size_t kAttrHeaderSize = 4;
constexpr size_t padded(size_t n) { return (n + 3) & ~size_t(3); }
// Typical ICE check with MI and FINGERPRINT is ~100 bytes; one allocation covers it.
constexpr size_t kTypicalMessageSize = 128;
}  // namespace

MessageBuilder::MessageBuilder(MessageClass cls, uint16_t method, const TransactionId& tid) {
  buf_.reserve(kTypicalMessageSize);
  ByteWriter w(buf_);
  w.u16(encode_message_type(cls, method));
  w.u16(0);  // length, maintained by set_length()
  w.u32(kMagicCookie);
  w.bytes(tid);
}

size_t MessageBuilder::append_attribute(uint16_t type, size_t length) {
  ByteWriter w(buf_);
  w.u16(type);
  w.u16(uint16_t(length));
  size_t value_at = buf_.size();
  w.zeros(padded(length));
  set_length(buf_.size() - kHeaderSize);
  return value_at;
}

void MessageBuilder::set_length(size_t body_length) { store_be16(&buf_[2], uint16_t(body_length)); }

MessageBuilder& MessageBuilder::add_attribute(uint16_t type, ByteSpan value) {
  size_t at = append_attribute(type, value.size());
  if (!value.empty()) std::memcpy(&buf_[at], value.data(), value.size());
  return *this;
}

MessageBuilder& MessageBuilder::add_username(std::string_view username) {
  return add_attribute(attr::kUsername,
                       ByteSpan(reinterpret_cast<const uint8_t*>(username.data()), username.size()));
}

MessageBuilder& MessageBuilder::add_priority(uint32_t priority) {
  store_be32(&buf_[append_attribute(attr::kPriority, 4)], priority);
  return *this;
}

MessageBuilder& MessageBuilder::add_use_candidate() {
  append_attribute(attr::kUseCandidate, 0);
  return *this;
}

MessageBuilder& MessageBuilder::add_ice_controlling(uint64_t tie_breaker) {
  store_be64(&buf_[append_attribute(attr::kIceControlling, 8)], tie_breaker);
  return *this;
}

MessageBuilder& MessageBuilder::add_ice_controlled(uint64_t tie_breaker) {
  store_be64(&buf_[append_attribute(attr::kIceControlled, 8)], tie_breaker);
  return *this;
}

MessageBuilder& MessageBuilder::add_xor_mapped_address(const SocketAddress& address) {
  if (!address.valid()) return *this;
  const size_t addr_len = address.raw_address_size();
  size_t at = append_attribute(attr::kXorMappedAddress, 4 + addr_len);
  // §14.2: family, port XOR top of cookie, address XOR cookie || transaction id.
  buf_[at + 1] = address.is_v4() ? 0x01 : 0x02;
  store_be16(&buf_[at + 2], uint16_t(address.port() ^ (kMagicCookie >> 16)));
  const uint8_t* mask = &buf_[4];  // cookie (4 bytes) then transaction id (12 bytes)
  const uint8_t* addr = address.raw_address();
  for (size_t i = 0; i < addr_len; ++i) buf_[at + 4 + i] = addr[i] ^ mask[i];
  return *this;
}

MessageBuilder& MessageBuilder::add_error_code(uint16_t code, std::string_view reason) {
  size_t at = append_attribute(attr::kErrorCode, 4 + reason.size());
  buf_[at + 2] = uint8_t((code / 100) & 0x07);
  buf_[at + 3] = uint8_t(code % 100);
  if (!reason.empty()) std::memcpy(&buf_[at + 4], reason.data(), reason.size());
  return *this;
}

Bytes MessageBuilder::finish(std::optional<std::string_view> integrity_key, bool fingerprint) {
  if (integrity_key) {
    // §14.5: the length must already count MESSAGE-INTEGRITY when the HMAC is computed;
    // append_attribute() sets it that way before we hash everything before the attribute.
    size_t mi_header = buf_.size();
    size_t at = append_attribute(attr::kMessageIntegrity, kMessageIntegritySize);
    auto digest = hmac_sha1(*integrity_key, {ByteSpan(buf_.data(), mi_header)});
    // OpenSSL failing here means SHA-1 is unavailable; an all-zero MAC will simply not verify.
    if (digest) std::memcpy(&buf_[at], digest->data(), digest->size());
  }
  if (fingerprint) {
    size_t fp_header = buf_.size();
    size_t at = append_attribute(attr::kFingerprint, 4);
    store_be32(&buf_[at], crc32(ByteSpan(buf_.data(), fp_header)) ^ kFingerprintXor);
  }
  return std::move(buf_);
}

TransactionId random_transaction_id() {
  TransactionId tid;
  for (size_t i = 0; i < tid.size(); i += 4) store_be32(&tid[i], random_u32());
  return tid;
}

}  // namespace strata::stun
