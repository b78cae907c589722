// The Data Channel Establishment Protocol (RFC 8832): the two messages that open a WebRTC data
// channel on an SCTP stream (payload protocol identifier 50), and the identifiers of the user
// messages that follow (RFC 8831 §8). Sans-IO: bytes in, a message or a reason out; nothing
// here allocates except the label and protocol strings of an OPEN.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.hpp"

namespace strata::datachannel {

// SCTP payload protocol identifiers (RFC 8831 §8; IANA "SCTP Payload Protocol Identifiers").
// An empty message cannot be sent as a zero-length DATA chunk (RFC 9260 §3.3.1), so it goes
// as one byte with the "empty" PPID, which the receiver reads as no bytes.
enum class Ppid : uint32_t {
  kDcep = 50,
  kString = 51,
  kBinaryPartial = 52,  // deprecated (RFC 8831 §8); refused
  kBinary = 53,
  kStringPartial = 54,  // deprecated; refused
  kStringEmpty = 56,
  kBinaryEmpty = 57,
};

// What a user message is, from its PPID; nullopt-like kNone for anything else.
enum class Payload : uint8_t { kNone, kString, kBinary, kStringEmpty, kBinaryEmpty };
Payload payload_of(uint32_t ppid);
uint32_t ppid_of(Payload payload);
inline bool is_empty(Payload p) { return p == Payload::kStringEmpty || p == Payload::kBinaryEmpty; }

// RFC 8832 §5.1, Channel Type: the high bit means unordered; the low bits the reliability.
enum class Reliability : uint8_t { kReliable = 0x00, kRetransmits = 0x01, kLifetime = 0x02 };

struct ChannelOptions {
  bool ordered = true;
  Reliability reliability = Reliability::kReliable;
  // kRetransmits: the most retransmissions of a message; kLifetime: its lifetime in ms
  // (RFC 8832 §5.1, Reliability Parameter). 0 for kReliable: a sender must send 0 there and a
  // receiver ignore it, so parse_dcep reads it as 0.
  uint32_t reliability_parameter = 0;
  uint16_t priority = 0;  // RFC 8832 §5.1, RFC 8831 §6.4 (W3C: very-low 128, low 256, medium 512, high 1024)
  bool operator==(const ChannelOptions&) const = default;
};

struct OpenMessage {
  ChannelOptions options;
  std::string label;     // UTF-8 (RFC 8832 §5.1); may be empty
  std::string protocol;  // UTF-8, an IANA WebSocket subprotocol name or empty
  bool operator==(const OpenMessage&) const = default;
};

struct AckMessage {
  bool operator==(const AckMessage&) const = default;
};

// Why a DCEP message was refused; each is a counter where the message arrives.
enum class DcepError : uint8_t {
  kEmpty,            // no bytes
  kUnknownType,      // the first byte is neither OPEN (0x03) nor ACK (0x02)
  kTruncated,        // shorter than its fixed part or its label and protocol lengths say
  kTrailingBytes,    // longer than they say (one message per DATA chunk, RFC 8832 §5)
  kBadChannelType,   // a channel type RFC 8832 §8.2.2 does not define
  kBadUtf8,          // the label or protocol is not UTF-8
};
std::string_view to_string(DcepError e);

using DcepMessage = std::variant<OpenMessage, AckMessage, DcepError>;
DcepMessage parse_dcep(ByteSpan message);

// The message bytes (for PPID 50). serialize_open expects a label and protocol of at most
// 65535 bytes each (the 16-bit lengths); longer ones are cut, never overflowed.
Bytes serialize_open(const OpenMessage& open);
Bytes serialize_ack();

// RFC 3629: well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_utf8(std::string_view text);

}  // namespace strata::datachannel
