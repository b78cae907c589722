#include "rtp/rtcp_transport_cc.hpp"

#include "rtp/rtcp_feedback.hpp"

namespace strata::rtp {

namespace {

constexpr size_t kFixedFci = 8;  // base seq, status count, reference time, fb pkt count
constexpr size_t kFeedbackHeader = 8;
constexpr size_t kMaxRunLength = 0x1FFF;
enum Symbol : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2 };

// Appends the symbols of one chunk to `symbols`, capped at `wanted` total.
void decode_chunk(uint16_t chunk, size_t wanted, std::vector<uint8_t>& symbols) {
  if ((chunk & 0x8000) == 0) {
    const uint8_t symbol = uint8_t((chunk >> 13) & 0x3);
    const size_t run = chunk & 0x1FFF;
    for (size_t i = 0; i < run && symbols.size() < wanted; ++i) symbols.push_back(symbol);
  } else if ((chunk & 0x4000) == 0) {
    for (int i = 13; i >= 0 && symbols.size() < wanted; --i) symbols.push_back(uint8_t((chunk >> i) & 0x1));
  } else {
    for (int i = 6; i >= 0 && symbols.size() < wanted; --i) symbols.push_back(uint8_t((chunk >> (2 * i)) & 0x3));
  }
}

int64_t ticks_from_us(int64_t us) {
  return us >= 0 ? (us + kTwccDeltaTickUs / 2) / kTwccDeltaTickUs
                 : -((-us + kTwccDeltaTickUs / 2) / kTwccDeltaTickUs);
}

// Greedy chunk encoder: a run-length chunk for runs of 7+ equal symbols (a 2-bit vector
// holds 7), otherwise a 1-bit vector when the next 14 symbols are 0/1, else a 2-bit one.
void encode_chunks(const std::vector<uint8_t>& symbols, ByteWriter& w) {
  size_t i = 0;
  while (i < symbols.size()) {
    size_t run = 1;
    while (i + run < symbols.size() && symbols[i + run] == symbols[i] && run < kMaxRunLength) ++run;
    if (run >= 7) {
      w.u16(uint16_t(symbols[i] << 13 | run));
      i += run;
      continue;
    }
    bool one_bit = true;
    for (size_t k = i; k < i + 14 && k < symbols.size(); ++k) one_bit = one_bit && symbols[k] <= 1;
    uint16_t chunk = 0x8000;
    if (one_bit) {
      for (size_t k = 0; k < 14; ++k) {
        if (i + k < symbols.size() && symbols[i + k]) chunk = uint16_t(chunk | 1u << (13 - k));
      }
      i += 14;
    } else {
      chunk |= 0x4000;
      for (size_t k = 0; k < 7; ++k) {
        if (i + k < symbols.size()) chunk = uint16_t(chunk | symbols[i + k] << (2 * (6 - k)));
      }
      i += 7;
    }
    w.u16(chunk);
  }
}

}  // namespace

std::optional<TransportFeedback> parse_transport_feedback(const RtcpPacketView& v) {
  if (!v.is(RtcpType::kRtpfb) || v.fmt() != kFmtTransportCc) return std::nullopt;
  const ByteSpan b = v.body;
  if (b.size() < kFeedbackHeader + kFixedFci) return std::nullopt;
  TransportFeedback fb;
  fb.sender_ssrc = load_be32(b.data());
  fb.media_ssrc = load_be32(b.data() + 4);
  const uint8_t* fci = b.data() + kFeedbackHeader;
  fb.base_seq = load_be16(fci);
  const size_t status_count = load_be16(fci + 2);
  fb.reference_time = int32_t(load_be24(fci + 4) << 8) >> 8;
  fb.fb_pkt_count = fci[7];

  size_t pos = kFeedbackHeader + kFixedFci;
  std::vector<uint8_t> symbols;
  symbols.reserve(status_count);
  while (symbols.size() < status_count) {
    if (pos + 2 > b.size()) return std::nullopt;
    decode_chunk(load_be16(b.data() + pos), status_count, symbols);
    pos += 2;
  }

  fb.packets.reserve(status_count);
  for (size_t i = 0; i < status_count; ++i) {
    TwccPacketStatus s{uint16_t(fb.base_seq + i), false, 0};
    const uint8_t symbol = symbols[i];
    if (symbol == kSmallDelta) {
      if (pos + 1 > b.size()) return std::nullopt;
      s.delta_us = int64_t(b[pos]) * kTwccDeltaTickUs;
      pos += 1;
    } else if (symbol == kLargeDelta) {
      if (pos + 2 > b.size()) return std::nullopt;
      s.delta_us = int64_t(int16_t(load_be16(b.data() + pos))) * kTwccDeltaTickUs;
      pos += 2;
    } else if (symbol != kNotReceived) {
      return std::nullopt;  // reserved symbol
    }
    s.received = symbol != kNotReceived;
    fb.packets.push_back(s);
  }
  return fb;
}

bool append_transport_feedback(Bytes& out, const TransportFeedback& fb) {
  if (fb.packets.empty() || fb.packets.size() > 0xFFFF) return false;
  std::vector<uint8_t> symbols(fb.packets.size());
  std::vector<int64_t> ticks(fb.packets.size());
  for (size_t i = 0; i < fb.packets.size(); ++i) {
    const auto& p = fb.packets[i];
    if (p.seq != uint16_t(fb.base_seq + i)) return false;
    if (!p.received) continue;
    ticks[i] = ticks_from_us(p.delta_us);
    if (ticks[i] < INT16_MIN || ticks[i] > INT16_MAX) return false;
    symbols[i] = (ticks[i] >= 0 && ticks[i] <= 255) ? kSmallDelta : kLargeDelta;
  }

  const size_t start = begin_rtcp_packet(out, kFmtTransportCc, uint8_t(RtcpType::kRtpfb));
  ByteWriter w(out);
  w.u32(fb.sender_ssrc);
  w.u32(fb.media_ssrc);
  w.u16(fb.base_seq);
  w.u16(uint16_t(fb.packets.size()));
  w.u24(uint32_t(fb.reference_time) & 0xFFFFFF);
  w.u8(fb.fb_pkt_count);
  encode_chunks(symbols, w);
  for (size_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i] == kSmallDelta) w.u8(uint8_t(ticks[i]));
    if (symbols[i] == kLargeDelta) w.u16(uint16_t(int16_t(ticks[i])));
  }
  // Pad with the RTCP padding mechanism (RFC 3550 §6.4.1) so the length is 32-bit aligned.
  const size_t unaligned = (out.size() - start) % 4;
  if (unaligned != 0) {
    const size_t pad = 4 - unaligned;
    for (size_t i = 1; i < pad; ++i) w.u8(0);
    w.u8(uint8_t(pad));
    out[start] |= 0x20;
  }
  finish_rtcp_packet(out, start);
  return true;
}

}  // namespace strata::rtp
