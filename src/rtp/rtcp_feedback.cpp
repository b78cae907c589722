#include "rtp/rtcp_feedback.hpp"

namespace strata::rtp {

namespace {

constexpr size_t kFeedbackHeader = 8;  // sender SSRC + media SSRC (RFC 4585 §6.1)

bool is_feedback(const RtcpPacketView& v, RtcpType type, uint8_t fmt) {
  return v.is(type) && v.fmt() == fmt && v.body.size() >= kFeedbackHeader;
}

size_t begin_feedback(Bytes& out, RtcpType type, uint8_t fmt, uint32_t sender, uint32_t media) {
  const size_t start = begin_rtcp_packet(out, fmt, uint8_t(type));
  ByteWriter w(out);
  w.u32(sender);
  w.u32(media);
  return start;
}

}  // namespace

std::vector<uint16_t> expand_nack_items(std::span<const NackItem> items) {
  std::vector<uint16_t> seqs;
  for (const auto& item : items) {
    seqs.push_back(item.pid);
    for (int bit = 0; bit < 16; ++bit) {
      if (item.blp & (1u << bit)) seqs.push_back(uint16_t(item.pid + bit + 1));
    }
  }
  return seqs;
}

std::vector<NackItem> nack_items_from_sequences(std::span<const uint16_t> seqs) {
  std::vector<NackItem> items;
  for (uint16_t seq : seqs) {
    if (!items.empty()) {
      NackItem& last = items.back();
      const uint16_t diff = uint16_t(seq - last.pid);
      if (diff == 0) continue;
      if (diff <= 16) {
        last.blp = uint16_t(last.blp | (1u << (diff - 1)));
        continue;
      }
    }
    items.push_back({seq, 0});
  }
  return items;
}

std::optional<Nack> parse_nack(const RtcpPacketView& v) {
  if (!is_feedback(v, RtcpType::kRtpfb, kFmtNack)) return std::nullopt;
  const uint8_t* p = v.body.data();
  Nack nack;
  nack.sender_ssrc = load_be32(p);
  nack.media_ssrc = load_be32(p + 4);
  const size_t n = (v.body.size() - kFeedbackHeader) / 4;
  nack.items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* fci = p + kFeedbackHeader + 4 * i;
    nack.items.push_back({load_be16(fci), load_be16(fci + 2)});
  }
  return nack;
}

std::optional<Pli> parse_pli(const RtcpPacketView& v) {
  if (!is_feedback(v, RtcpType::kPsfb, kFmtPli)) return std::nullopt;
  return Pli{load_be32(v.body.data()), load_be32(v.body.data() + 4)};
}

// RFC 5104 §4.3.1.1 FCI: SSRC, seq nr (8 bits), 24 reserved bits.
std::optional<Fir> parse_fir(const RtcpPacketView& v) {
  if (!is_feedback(v, RtcpType::kPsfb, kFmtFir)) return std::nullopt;
  Fir fir;
  fir.sender_ssrc = load_be32(v.body.data());
  const size_t n = (v.body.size() - kFeedbackHeader) / 8;
  fir.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* fci = v.body.data() + kFeedbackHeader + 8 * i;
    fir.entries.push_back({load_be32(fci), fci[4]});
  }
  return fir;
}

std::optional<Remb> parse_remb(const RtcpPacketView& v) {
  if (!is_feedback(v, RtcpType::kPsfb, kFmtAfb) || v.body.size() < kFeedbackHeader + 8) return std::nullopt;
  const uint8_t* fci = v.body.data() + kFeedbackHeader;
  if (std::memcmp(fci, "REMB", 4) != 0) return std::nullopt;
  const size_t num_ssrc = fci[4];
  if (v.body.size() < kFeedbackHeader + 8 + 4 * num_ssrc) return std::nullopt;
  const uint8_t exp = fci[5] >> 2;
  const uint32_t mantissa = (uint32_t(fci[5] & 0x03) << 16) | load_be16(fci + 6);
  // 18-bit mantissa shifted by up to 63 can overflow 64 bits; saturate.
  Remb remb;
  remb.sender_ssrc = load_be32(v.body.data());
  if (mantissa != 0 && exp > 45) {
    remb.bitrate_bps = UINT64_MAX;
  } else {
    remb.bitrate_bps = uint64_t(mantissa) << exp;
  }
  remb.ssrcs.reserve(num_ssrc);
  for (size_t i = 0; i < num_ssrc; ++i) remb.ssrcs.push_back(load_be32(fci + 8 + 4 * i));
  return remb;
}

bool append_nack(Bytes& out, const Nack& nack) {
  if (nack.items.empty()) return false;
  const size_t start = begin_feedback(out, RtcpType::kRtpfb, kFmtNack, nack.sender_ssrc, nack.media_ssrc);
  ByteWriter w(out);
  for (const auto& item : nack.items) {
    w.u16(item.pid);
    w.u16(item.blp);
  }
  finish_rtcp_packet(out, start);
  return true;
}

bool append_pli(Bytes& out, const Pli& pli) {
  const size_t start = begin_feedback(out, RtcpType::kPsfb, kFmtPli, pli.sender_ssrc, pli.media_ssrc);
  finish_rtcp_packet(out, start);
  return true;
}

bool append_fir(Bytes& out, const Fir& fir) {
  if (fir.entries.empty()) return false;
  const size_t start = begin_feedback(out, RtcpType::kPsfb, kFmtFir, fir.sender_ssrc, 0);
  ByteWriter w(out);
  for (const auto& e : fir.entries) {
    w.u32(e.ssrc);
    w.u8(e.seq_nr);
    w.u24(0);
  }
  finish_rtcp_packet(out, start);
  return true;
}

bool append_remb(Bytes& out, const Remb& remb) {
  if (remb.ssrcs.size() > 255) return false;
  uint64_t mantissa = remb.bitrate_bps;
  uint8_t exp = 0;
  while (mantissa > 0x3FFFF) {
    mantissa >>= 1;
    ++exp;
  }
  const size_t start = begin_feedback(out, RtcpType::kPsfb, kFmtAfb, remb.sender_ssrc, 0);
  ByteWriter w(out);
  w.str("REMB");
  w.u8(uint8_t(remb.ssrcs.size()));
  w.u8(uint8_t(exp << 2 | (mantissa >> 16)));
  w.u16(uint16_t(mantissa));
  for (uint32_t s : remb.ssrcs) w.u32(s);
  finish_rtcp_packet(out, start);
  return true;
}

}  // namespace strata::rtp
