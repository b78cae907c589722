#include "rtp/header_extensions.hpp"

namespace strata::rtp {

bool assign_extension_id(HeaderExtensionIds& ids, std::string_view u, uint8_t id) {
  if (u == uri::kMid) ids.mid = id;
  else if (u == uri::kRid) ids.rid = id;
  else if (u == uri::kRepairedRid) ids.repaired_rid = id;
  else if (u == uri::kAbsSendTime) ids.abs_send_time = id;
  else if (u == uri::kTransportCc) ids.transport_cc = id;
  else if (u == uri::kAudioLevel) ids.audio_level = id;
  else return false;
  return true;
}

static std::optional<std::string_view> read_string(const RtpPacket& p, uint8_t id) {
  auto v = p.extension(id);
  if (!v || v->empty()) return std::nullopt;
  // Senders may pad the value with NULs (RFC 8852 §4 forbids, but tolerate); trim them.
  size_t n = v->size();
  while (n > 0 && (*v)[n - 1] == 0) --n;
  if (n == 0) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(v->data()), n);
}

std::optional<std::string_view> read_mid(const RtpPacket& p, uint8_t id) { return read_string(p, id); }
std::optional<std::string_view> read_rid(const RtpPacket& p, uint8_t id) { return read_string(p, id); }
std::optional<std::string_view> read_repaired_rid(const RtpPacket& p, uint8_t id) {
  return read_string(p, id);
}

std::optional<uint32_t> read_abs_send_time(const RtpPacket& p, uint8_t id) {
  auto v = p.extension(id);
  if (!v || v->size() != 3) return std::nullopt;
  return load_be24(v->data());
}

bool write_abs_send_time(RtpPacket& p, uint8_t id, uint32_t value) {
  uint8_t buf[3];
  store_be24(buf, value & 0xFFFFFF);
  return p.set_extension_value(id, ByteSpan(buf, 3));
}

std::optional<uint16_t> read_transport_cc_seq(const RtpPacket& p, uint8_t id) {
  auto v = p.extension(id);
  if (!v || v->size() != 2) return std::nullopt;
  return load_be16(v->data());
}

bool write_transport_cc_seq(RtpPacket& p, uint8_t id, uint16_t seq) {
  uint8_t buf[2];
  store_be16(buf, seq);
  return p.set_extension_value(id, ByteSpan(buf, 2));
}

std::optional<AudioLevel> read_audio_level(const RtpPacket& p, uint8_t id) {
  auto v = p.extension(id);
  // RFC 6464 §3: one byte; the two-byte form may carry it padded, so accept >= 1.
  if (!v || v->empty()) return std::nullopt;
  return AudioLevel{((*v)[0] & 0x80) != 0, uint8_t((*v)[0] & 0x7F)};
}

}  // namespace strata::rtp
