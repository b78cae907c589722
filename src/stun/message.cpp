#include "stun/message.hpp"

#include <cstring>

#include "stun/crc32.hpp"
#include "stun/hmac_sha1.hpp"

namespace strata::stun {
namespace {

constexpr size_t kAttrHeaderSize = 4;

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t(3); }

// One attribute as found by the walk: `offset` is where its 4-byte header starts.
struct RawAttribute {
  uint16_t type;
  size_t offset;
  ByteSpan value;
};

// Walks attributes in [begin, end) of `msg`, bounds-checking every step, and calls
// visit(RawAttribute) -> bool (false stops the walk early). Returns false when the list is
// malformed (an attribute runs past `end`, or more than kMaxAttributes).
template <class Visit>
bool walk_attributes(ByteSpan msg, size_t begin, size_t end, Visit&& visit) {
  size_t off = begin;
  for (size_t count = 0; off < end; ++count) {
    if (count >= kMaxAttributes || end - off < kAttrHeaderSize) return false;
    uint16_t type = load_be16(&msg[off]);
    size_t len = load_be16(&msg[off + 2]);
    // §14: the value is padded to a multiple of 4; the padding must also fit.
    if (padded(len) > end - off - kAttrHeaderSize) return false;
    if (!visit(RawAttribute{type, off, msg.subspan(off + kAttrHeaderSize, len)})) return true;
    off += kAttrHeaderSize + padded(len);
  }
  return true;
}

// Header checks shared by parse() and the demux helpers (§5, §6.3).
bool valid_header(ByteSpan data) {
  if (data.size() < kHeaderSize) return false;
  if ((data[0] & 0xC0) != 0) return false;  // the most significant two bits are zero
  size_t length = load_be16(&data[2]);
  if (length % 4 != 0 || kHeaderSize + length != data.size()) return false;
  return load_be32(&data[4]) == kMagicCookie;
}

std::optional<uint64_t> read_u64(std::optional<ByteSpan> v) {
  if (!v || v->size() != 8) return std::nullopt;
  return load_be64(v->data());
}

}  // namespace

uint16_t encode_message_type(MessageClass cls, uint16_t method) {
  auto c = uint16_t(cls);
  return uint16_t((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                  ((c & 1) << 4) | ((c & 2) << 7));
}

MessageClass decode_message_class(uint16_t type) {
  return MessageClass(((type >> 4) & 1) | ((type >> 7) & 2));
}

uint16_t decode_message_method(uint16_t type) {
  return uint16_t((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}

std::optional<Message> Message::parse(ByteSpan data) {
  if (!valid_header(data)) return std::nullopt;
  Message m;
  m.raw_ = data;
  m.type_ = load_be16(&data[0]);
  std::memcpy(m.transaction_id_.data(), &data[8], kTransactionIdSize);
  bool ok = true;
  bool walked = walk_attributes(data, kHeaderSize, data.size(), [&](const RawAttribute& a) {
    // §14.7: FINGERPRINT must be the last attribute.
    if (m.fingerprint_offset_ != 0) return ok = false;
    if (a.type == attr::kMessageIntegrity) {
      if (a.value.size() != kMessageIntegritySize) return ok = false;
      if (m.integrity_offset_ == 0) m.integrity_offset_ = a.offset;
    } else if (a.type == attr::kFingerprint) {
      if (a.value.size() != 4) return ok = false;
      m.fingerprint_offset_ = a.offset;
    }
    return true;
  });
  if (!walked || !ok) return std::nullopt;
  return m;
}

std::optional<ByteSpan> Message::find_in(size_t begin, size_t end, uint16_t type) const {
  std::optional<ByteSpan> found;
  walk_attributes(raw_, begin, end, [&](const RawAttribute& a) {
    if (a.type != type) return true;
    found = a.value;
    return false;
  });
  return found;
}

std::optional<ByteSpan> Message::attribute(uint16_t type) const {
  if (type == attr::kFingerprint) {
    if (fingerprint_offset_ == 0) return std::nullopt;
    return raw_.subspan(fingerprint_offset_ + kAttrHeaderSize, 4);
  }
  // §14.5: everything after MESSAGE-INTEGRITY except FINGERPRINT is ignored.
  size_t end = integrity_offset_ != 0 ? integrity_offset_ + kAttrHeaderSize + kMessageIntegritySize
                                      : raw_.size();
  return find_in(kHeaderSize, end, type);
}

std::optional<std::string_view> Message::username() const {
  auto v = attribute(attr::kUsername);
  if (!v) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

std::optional<uint32_t> Message::priority() const {
  auto v = attribute(attr::kPriority);
  if (!v || v->size() != 4) return std::nullopt;
  return load_be32(v->data());
}

std::optional<uint64_t> Message::ice_controlling() const { return read_u64(attribute(attr::kIceControlling)); }
std::optional<uint64_t> Message::ice_controlled() const { return read_u64(attribute(attr::kIceControlled)); }

std::optional<SocketAddress> Message::xor_mapped_address() const {
  auto v = attribute(attr::kXorMappedAddress);
  if (!v || v->size() < 4) return std::nullopt;
  const uint8_t family = (*v)[1];
  const size_t addr_len = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
  if (addr_len == 0 || v->size() != 4 + addr_len) return std::nullopt;
  // §14.2: port XORed with the top 16 bits of the cookie, address with cookie || txid.
  const auto port = uint16_t(load_be16(&(*v)[2]) ^ (kMagicCookie >> 16));
  uint8_t mask[16];
  store_be32(mask, kMagicCookie);
  std::memcpy(mask + 4, transaction_id_.data(), kTransactionIdSize);
  uint8_t addr[16];
  for (size_t i = 0; i < addr_len; ++i) addr[i] = (*v)[4 + i] ^ mask[i];
  return SocketAddress::from_raw(addr, addr_len, port);
}

std::optional<ErrorCode> Message::error_code() const {
  auto v = attribute(attr::kErrorCode);
  if (!v || v->size() < 4) return std::nullopt;
  // §14.8: 21 reserved bits, 3-bit class (3..6), 8-bit number (0..99).
  const unsigned cls = (*v)[2] & 0x07;
  const unsigned number = (*v)[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  ErrorCode ec;
  ec.code = uint16_t(cls * 100 + number);
  ec.reason = std::string_view(reinterpret_cast<const char*>(v->data() + 4), v->size() - 4);
  return ec;
}

std::optional<uint32_t> Message::fingerprint() const {
  auto v = attribute(attr::kFingerprint);
  if (!v) return std::nullopt;
  return load_be32(v->data());
}

std::optional<ByteSpan> Message::message_integrity() const {
  if (integrity_offset_ == 0) return std::nullopt;
  return raw_.subspan(integrity_offset_ + kAttrHeaderSize, kMessageIntegritySize);
}

bool Message::verify_message_integrity(std::string_view key) const {
  if (integrity_offset_ == 0) return false;
  // §14.5: the HMAC covers the message up to (not including) MESSAGE-INTEGRITY, with the
  // header length set as if MESSAGE-INTEGRITY were the last attribute. Only the two length
  // bytes change, so they are fed separately instead of copying the message.
  uint8_t length_field[2];
  store_be16(length_field, uint16_t(integrity_offset_ + kAttrHeaderSize + kMessageIntegritySize - kHeaderSize));
  auto digest = hmac_sha1(key, {raw_.subspan(0, 2), ByteSpan(length_field, 2),
                                raw_.subspan(4, integrity_offset_ - 4)});
  return digest && digests_equal(*digest, *message_integrity());
}

bool Message::verify_fingerprint() const {
  if (fingerprint_offset_ == 0) return false;
  // §14.7: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e. FINGERPRINT is last,
  // so the header length already counts it, as the RFC requires.
  uint32_t expected = crc32(raw_.subspan(0, fingerprint_offset_)) ^ kFingerprintXor;
  return *fingerprint() == expected;
}

bool verify_message_integrity(ByteSpan raw, std::string_view key) {
  auto m = Message::parse(raw);
  return m && m->verify_message_integrity(key);
}

bool verify_fingerprint(ByteSpan raw) {
  auto m = Message::parse(raw);
  return m && m->verify_fingerprint();
}

// RFC 7983 §7: STUN's first byte is 0..3 on a multiplexed port (DTLS is 20..63, which
// would pass the plain "top two bits zero" rule of RFC 8489).
bool looks_like_stun(ByteSpan data) { return valid_header(data) && data[0] <= 3; }

bool peek_is_response(ByteSpan data) {
  return looks_like_stun(data) && (load_be16(data.data()) & 0x0100) != 0;  // C1 set: class 0b1x
}

std::optional<std::string_view> peek_username(ByteSpan data) {
  if (!looks_like_stun(data)) return std::nullopt;
  std::optional<std::string_view> found;
  walk_attributes(data, kHeaderSize, data.size(), [&](const RawAttribute& a) {
    if (a.type != attr::kUsername) return true;
    found = std::string_view(reinterpret_cast<const char*>(a.value.data()), a.value.size());
    return false;
  });
  return found;
}

}  // namespace strata::stun
