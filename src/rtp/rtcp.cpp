#include "rtp/rtcp.hpp"

namespace strata::rtp {

namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kReportBlockSize = 24;
constexpr size_t kSenderInfoSize = 24;  // SSRC + NTP + RTP ts + packet count + octet count

int32_t sign_extend24(uint32_t v) { return int32_t(v << 8) >> 8; }

ReportBlock read_report_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load_be32(p);
  b.fraction_lost = p[4];
  b.cumulative_lost = sign_extend24(load_be24(p + 5));
  b.highest_seq = load_be32(p + 8);
  b.jitter = load_be32(p + 12);
  b.lsr = load_be32(p + 16);
  b.dlsr = load_be32(p + 20);
  return b;
}

void write_report_block(ByteWriter& w, const ReportBlock& b) {
  w.u32(b.ssrc);
  w.u8(b.fraction_lost);
  // Clamp to the 24-bit signed range (RFC 3550 §6.4.1).
  int32_t lost = b.cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  w.u24(uint32_t(lost) & 0xFFFFFF);
  w.u32(b.highest_seq);
  w.u32(b.jitter);
  w.u32(b.lsr);
  w.u32(b.dlsr);
}

bool read_report_blocks(ByteSpan body, size_t offset, size_t count, std::vector<ReportBlock>& out) {
  if (body.size() < offset + count * kReportBlockSize) return false;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(read_report_block(body.data() + offset + i * kReportBlockSize));
  return true;
}

}  // namespace

std::optional<RtcpPacketView> RtcpIterator::next() {
  if (malformed_ || offset_ >= data_.size()) return std::nullopt;
  const size_t remaining = data_.size() - offset_;
  const uint8_t* p = data_.data() + offset_;
  if (remaining < kHeaderSize || (p[0] >> 6) != 2) {
    malformed_ = true;
    return std::nullopt;
  }
  const size_t length = (size_t(load_be16(p + 2)) + 1) * 4;
  if (length > remaining) {
    malformed_ = true;
    return std::nullopt;
  }
  size_t padding = 0;
  if (p[0] & 0x20) {
    // RFC 3550 §6.4.1: the last octet counts padding, itself included; never the header.
    padding = p[length - 1];
    if (padding == 0 || padding > length - kHeaderSize) {
      malformed_ = true;
      return std::nullopt;
    }
  }
  RtcpPacketView v;
  v.count = p[0] & 0x1F;
  v.type = p[1];
  v.packet = ByteSpan(p, length);
  v.body = ByteSpan(p + kHeaderSize, length - kHeaderSize - padding);
  offset_ += length;
  return v;
}

bool is_valid_compound(ByteSpan compound) {
  RtcpIterator it(compound);
  auto first = it.next();
  if (!first || !(first->is(RtcpType::kSr) || first->is(RtcpType::kRr))) return false;
  while (it.next()) {
  }
  return !it.malformed();
}

std::optional<SenderReport> parse_sender_report(const RtcpPacketView& v) {
  if (!v.is(RtcpType::kSr) || v.body.size() < kSenderInfoSize) return std::nullopt;
  const uint8_t* p = v.body.data();
  SenderReport sr;
  sr.ssrc = load_be32(p);
  sr.ntp = load_be64(p + 4);
  sr.rtp_ts = load_be32(p + 12);
  sr.packet_count = load_be32(p + 16);
  sr.octet_count = load_be32(p + 20);
  if (!read_report_blocks(v.body, kSenderInfoSize, v.count, sr.blocks)) return std::nullopt;
  return sr;
}

std::optional<ReceiverReport> parse_receiver_report(const RtcpPacketView& v) {
  if (!v.is(RtcpType::kRr) || v.body.size() < 4) return std::nullopt;
  ReceiverReport rr;
  rr.ssrc = load_be32(v.body.data());
  if (!read_report_blocks(v.body, 4, v.count, rr.blocks)) return std::nullopt;
  return rr;
}

// RFC 3550 §6.5: each chunk is SSRC, items (type, length, text) ended by a null octet,
// then zero padding to the next 32-bit boundary.
std::optional<Sdes> parse_sdes(const RtcpPacketView& v) {
  if (!v.is(RtcpType::kSdes)) return std::nullopt;
  Sdes sdes;
  const ByteSpan b = v.body;
  size_t pos = 0;
  for (size_t c = 0; c < v.count; ++c) {
    if (pos + 4 > b.size()) return std::nullopt;
    SdesChunk chunk;
    chunk.ssrc = load_be32(b.data() + pos);
    pos += 4;
    while (true) {
      if (pos >= b.size()) return std::nullopt;
      const uint8_t type = b[pos];
      if (type == 0) break;
      if (pos + 2 > b.size()) return std::nullopt;
      const size_t len = b[pos + 1];
      if (pos + 2 + len > b.size()) return std::nullopt;
      if (type == 1) chunk.cname.assign(reinterpret_cast<const char*>(b.data() + pos + 2), len);
      pos += 2 + len;
    }
    pos = (pos + 4) & ~size_t(3);  // the END octet plus padding to 32 bits
    sdes.chunks.push_back(std::move(chunk));
  }
  return sdes;
}

std::optional<Bye> parse_bye(const RtcpPacketView& v) {
  if (!v.is(RtcpType::kBye) || v.body.size() < 4 * size_t(v.count)) return std::nullopt;
  Bye bye;
  bye.ssrcs.reserve(v.count);
  for (size_t i = 0; i < v.count; ++i) bye.ssrcs.push_back(load_be32(v.body.data() + 4 * i));
  const size_t pos = 4 * size_t(v.count);
  if (pos < v.body.size()) {
    const size_t len = v.body[pos];
    if (pos + 1 + len > v.body.size()) return std::nullopt;
    bye.reason.assign(reinterpret_cast<const char*>(v.body.data() + pos + 1), len);
  }
  return bye;
}

size_t begin_rtcp_packet(Bytes& out, uint8_t count, uint8_t type) {
  const size_t start = out.size();
  ByteWriter w(out);
  w.u8(uint8_t(0x80 | (count & 0x1F)));
  w.u8(type);
  w.u16(0);
  return start;
}

void finish_rtcp_packet(Bytes& out, size_t start) {
  while ((out.size() - start) % 4 != 0) out.push_back(0);
  store_be16(out.data() + start + 2, uint16_t((out.size() - start) / 4 - 1));
}

bool append_sender_report(Bytes& out, const SenderReport& sr) {
  if (sr.blocks.size() > kMaxReportBlocks) return false;
  const size_t start = begin_rtcp_packet(out, uint8_t(sr.blocks.size()), uint8_t(RtcpType::kSr));
  ByteWriter w(out);
  w.u32(sr.ssrc);
  w.u64(sr.ntp);
  w.u32(sr.rtp_ts);
  w.u32(sr.packet_count);
  w.u32(sr.octet_count);
  for (const auto& b : sr.blocks) write_report_block(w, b);
  finish_rtcp_packet(out, start);
  return true;
}

bool append_receiver_report(Bytes& out, const ReceiverReport& rr) {
  if (rr.blocks.size() > kMaxReportBlocks) return false;
  const size_t start = begin_rtcp_packet(out, uint8_t(rr.blocks.size()), uint8_t(RtcpType::kRr));
  ByteWriter w(out);
  w.u32(rr.ssrc);
  for (const auto& b : rr.blocks) write_report_block(w, b);
  finish_rtcp_packet(out, start);
  return true;
}

bool append_sdes(Bytes& out, const Sdes& sdes) {
  if (sdes.chunks.size() > 31) return false;
  for (const auto& c : sdes.chunks) {
    if (c.cname.size() > 255) return false;
  }
  const size_t start = begin_rtcp_packet(out, uint8_t(sdes.chunks.size()), uint8_t(RtcpType::kSdes));
  ByteWriter w(out);
  for (const auto& c : sdes.chunks) {
    const size_t chunk_start = out.size();
    w.u32(c.ssrc);
    w.u8(1);  // CNAME
    w.u8(uint8_t(c.cname.size()));
    w.str(c.cname);
    w.u8(0);  // END; then pad the chunk to 32 bits (§6.5)
    while ((out.size() - chunk_start) % 4 != 0) w.u8(0);
  }
  finish_rtcp_packet(out, start);
  return true;
}

bool append_bye(Bytes& out, const Bye& bye) {
  if (bye.ssrcs.size() > 31 || bye.reason.size() > 255) return false;
  const size_t start = begin_rtcp_packet(out, uint8_t(bye.ssrcs.size()), uint8_t(RtcpType::kBye));
  ByteWriter w(out);
  for (uint32_t s : bye.ssrcs) w.u32(s);
  if (!bye.reason.empty()) {
    w.u8(uint8_t(bye.reason.size()));
    w.str(bye.reason);
  }
  finish_rtcp_packet(out, start);
  return true;
}

Bytes build_compound_feedback(uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                              ByteSpan feedback, std::string_view cname) {
  Bytes out;
  ReceiverReport rr{sender_ssrc, {blocks.begin(), blocks.end()}};
  if (!append_receiver_report(out, rr)) return {};
  if (!cname.empty() && !append_sdes(out, Sdes{{SdesChunk{sender_ssrc, std::string(cname)}}})) return {};
  out.insert(out.end(), feedback.begin(), feedback.end());
  return out;
}

}  // namespace strata::rtp
