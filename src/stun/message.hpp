// STUN message parsing (RFC 8489) for the ICE-lite server path.
//
// `Message` is a validated, non-owning view over a datagram: parse() checks the header and
// walks every attribute once with bounds checks, and the accessors re-walk the (already
// validated) attribute list on demand. Nothing is allocated per packet. The view borrows
// the caller's buffer, so it must not outlive it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/socket_address.hpp"

namespace strata::stun {

inline constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 §5
inline constexpr size_t kHeaderSize = 20;
inline constexpr size_t kTransactionIdSize = 12;
inline constexpr size_t kMessageIntegritySize = 20;  // HMAC-SHA1 output (§14.5)
inline constexpr uint32_t kFingerprintXor = 0x5354554e;  // "STUN" (§14.7)
// A datagram can hold at most ~16k four-byte attributes; real ICE checks carry < 10.
// The cap keeps the worst-case walk on hostile input short.
inline constexpr size_t kMaxAttributes = 64;

using TransactionId = std::array<uint8_t, kTransactionIdSize>;

// The two class bits of the message type (§5).
enum class MessageClass : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

inline constexpr uint16_t kMethodBinding = 0x001;

// Attribute types (RFC 8489 §18.3, RFC 8445 §16.1).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace attr

// Message type field layout (§5, figure 3): method bits M0..M11 interleaved with the class
// bits C0 (bit 4) and C1 (bit 8).
uint16_t encode_message_type(MessageClass cls, uint16_t method);
MessageClass decode_message_class(uint16_t type);
uint16_t decode_message_method(uint16_t type);

struct ErrorCode {
  uint16_t code = 0;        // 300..699, e.g. 487
  std::string_view reason;  // UTF-8 reason phrase, borrowed from the message
};

class Message {
 public:
  // Full validation: top two bits zero, magic cookie, length a multiple of 4 that matches
  // the datagram exactly, every attribute inside the message, MESSAGE-INTEGRITY exactly
  // 20 bytes, FINGERPRINT exactly 4 bytes and last. nullopt on any violation.
  static std::optional<Message> parse(ByteSpan data);

  uint16_t type() const { return type_; }
  MessageClass message_class() const { return decode_message_class(type_); }
  uint16_t method() const { return decode_message_method(type_); }
  bool is_binding_request() const {
    return message_class() == MessageClass::kRequest && method() == kMethodBinding;
  }
  const TransactionId& transaction_id() const { return transaction_id_; }
  ByteSpan raw() const { return raw_; }

  // Value of the first attribute of this type (§14: later duplicates are ignored).
  // Attributes after MESSAGE-INTEGRITY are ignored except FINGERPRINT (§14.5).
  std::optional<ByteSpan> attribute(uint16_t type) const;
  bool has_attribute(uint16_t type) const { return attribute(type).has_value(); }

  std::optional<std::string_view> username() const;
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return has_attribute(attr::kUseCandidate); }
  std::optional<uint64_t> ice_controlling() const;  // tie-breaker
  std::optional<uint64_t> ice_controlled() const;   // tie-breaker
  std::optional<SocketAddress> xor_mapped_address() const;
  std::optional<ErrorCode> error_code() const;
  std::optional<uint32_t> fingerprint() const;
  std::optional<ByteSpan> message_integrity() const;  // the 20-byte HMAC

  // HMAC-SHA1 check (§14.5) with `key` (short-term credential: the password as-is).
  bool verify_message_integrity(std::string_view key) const;
  // CRC-32 check (§14.7). False when there is no FINGERPRINT.
  bool verify_fingerprint() const;

 private:
  Message() = default;
  std::optional<ByteSpan> find_in(size_t begin, size_t end, uint16_t type) const;

  ByteSpan raw_;
  uint16_t type_ = 0;
  TransactionId transaction_id_{};
  size_t integrity_offset_ = 0;    // offset of the MI attribute header, 0 = absent
  size_t fingerprint_offset_ = 0;  // offset of the FINGERPRINT attribute header, 0 = absent
};

// Parses then verifies; false for anything that does not parse.
bool verify_message_integrity(ByteSpan raw, std::string_view key);
bool verify_fingerprint(ByteSpan raw);

// Cheap demux test (RFC 7983 §7 plus the cookie and length): no attribute walk.
bool looks_like_stun(ByteSpan data);
// USERNAME of a STUN message without full validation, for routing a datagram to its
// session by ufrag before parsing it properly. Bounds-checked; nullopt when absent.
std::optional<std::string_view> peek_username(ByteSpan data);
// A success or error response (the C1 class bit, §5), from the header alone. Responses are
// routed by the address they come from, whatever USERNAME they carry: libnice puts the
// request's USERNAME ("<its ufrag>:<ours>") in its responses.
bool peek_is_response(ByteSpan data);

}  // namespace strata::stun
