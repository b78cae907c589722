#include "datachannel/dcep.hpp"

namespace strata::datachannel {
namespace {

// RFC 8832 §5.1 and §5.2; §8.2.1 (message types) and §8.2.2 (channel types).
constexpr uint8_t kOpen = 0x03;
constexpr uint8_t kAck = 0x02;
constexpr uint8_t kUnordered = 0x80;
constexpr size_t kOpenFixed = 12;  // type, channel type, priority, parameter, two lengths

bool valid_channel_type(uint8_t t) { return (t & ~kUnordered) <= uint8_t(Reliability::kLifetime); }

// Continuation bytes 10xxxxxx.
bool continuation(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t k = 0; k < n; ++k)
    if ((uint8_t(s[at + k]) & 0xC0) != 0x80) return false;
  return true;
}

}  // namespace

Payload payload_of(uint32_t ppid) {
  switch (Ppid(ppid)) {
    case Ppid::kString: return Payload::kString;
    case Ppid::kBinary: return Payload::kBinary;
    case Ppid::kStringEmpty: return Payload::kStringEmpty;
    case Ppid::kBinaryEmpty: return Payload::kBinaryEmpty;
    default: return Payload::kNone;
  }
}

uint32_t ppid_of(Payload payload) {
  switch (payload) {
    case Payload::kString: return uint32_t(Ppid::kString);
    case Payload::kBinary: return uint32_t(Ppid::kBinary);
    case Payload::kStringEmpty: return uint32_t(Ppid::kStringEmpty);
    case Payload::kBinaryEmpty: return uint32_t(Ppid::kBinaryEmpty);
    case Payload::kNone: break;
  }
  return 0;
}

std::string_view to_string(DcepError e) {
  switch (e) {
    case DcepError::kEmpty: return "empty";
    case DcepError::kUnknownType: return "unknown-type";
    case DcepError::kTruncated: return "truncated";
    case DcepError::kTrailingBytes: return "trailing-bytes";
    case DcepError::kBadChannelType: return "bad-channel-type";
    case DcepError::kBadUtf8: return "bad-utf8";
  }
  return "unknown";
}

DcepMessage parse_dcep(ByteSpan m) {
  if (m.empty()) return DcepError::kEmpty;
  if (m[0] == kAck) return m.size() == 1 ? DcepMessage(AckMessage{}) : DcepMessage(DcepError::kTrailingBytes);
  if (m[0] != kOpen) return DcepError::kUnknownType;
  if (m.size() < kOpenFixed) return DcepError::kTruncated;
  const uint8_t type = m[1];
  if (!valid_channel_type(type)) return DcepError::kBadChannelType;
  const size_t label_len = load_be16(&m[8]);
  const size_t protocol_len = load_be16(&m[10]);
  const size_t want = kOpenFixed + label_len + protocol_len;
  if (m.size() < want) return DcepError::kTruncated;
  if (m.size() > want) return DcepError::kTrailingBytes;
  OpenMessage open;
  open.options.ordered = (type & kUnordered) == 0;
  open.options.reliability = Reliability(type & ~kUnordered);
  open.options.priority = load_be16(&m[2]);
  if (open.options.reliability != Reliability::kReliable) open.options.reliability_parameter = load_be32(&m[4]);
  const auto* text = reinterpret_cast<const char*>(m.data()) + kOpenFixed;
  open.label.assign(text, label_len);
  open.protocol.assign(text + label_len, protocol_len);
  if (!is_utf8(open.label) || !is_utf8(open.protocol)) return DcepError::kBadUtf8;
  return open;
}

Bytes serialize_open(const OpenMessage& open) {
  const std::string_view label = std::string_view(open.label).substr(0, 0xFFFF);
  const std::string_view protocol = std::string_view(open.protocol).substr(0, 0xFFFF);
  const ChannelOptions& o = open.options;
  Bytes out;
  out.reserve(kOpenFixed + label.size() + protocol.size());
  ByteWriter w(out);
  w.u8(kOpen);
  w.u8(uint8_t(o.reliability) | (o.ordered ? 0 : kUnordered));
  w.u16(o.priority);
  w.u32(o.reliability == Reliability::kReliable ? 0 : o.reliability_parameter);
  w.u16(uint16_t(label.size()));
  w.u16(uint16_t(protocol.size()));
  w.str(label);
  w.str(protocol);
  return out;
}

Bytes serialize_ack() { return Bytes{kAck}; }

bool is_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = uint8_t(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      if (!continuation(s, i + 1, 1)) return false;
      i += 2;
      continue;
    }
    if (c >= 0xE0 && c <= 0xEF) {
      if (!continuation(s, i + 1, 2)) return false;
      const uint8_t c1 = uint8_t(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) return false;  // overlong
      if (c == 0xED && c1 > 0x9F) return false;  // UTF-16 surrogates
      i += 3;
      continue;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!continuation(s, i + 1, 3)) return false;
      const uint8_t c1 = uint8_t(s[i + 1]);
      if (c == 0xF0 && c1 < 0x90) return false;  // overlong
      if (c == 0xF4 && c1 > 0x8F) return false;  // above U+10FFFF
      i += 4;
      continue;
    }
    return false;  // 0x80-0xC1 (continuation or overlong lead), 0xF5-0xFF
  }
  return true;
}

}  // namespace strata::datachannel
