// RTCP compound packets (RFC 3550 §6): a bounds-checked iterator over the sub-packets,
// plus parse/build for SR (200), RR (201), SDES (202, CNAME) and BYE (203).
// Iteration never allocates; parsed report structs use small vectors (RTCP arrives at a
// few packets per second per stream, far off the RTP hot path).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace strata::rtp {

enum class RtcpType : uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpfb = 205,  // RFC 4585 §6.2
  kPsfb = 206,   // RFC 4585 §6.3
  kXr = 207,
};

// One sub-packet of a compound packet (RFC 3550 §6.4.1 common header).
struct RtcpPacketView {
  uint8_t count = 0;  // RC / SC / FMT: the low 5 bits of the first byte
  uint8_t type = 0;
  ByteSpan packet;    // the whole sub-packet: header, body and padding
  ByteSpan body;      // after the 4-byte header, padding stripped

  uint8_t fmt() const { return count; }
  bool is(RtcpType t) const { return type == uint8_t(t); }
};

// Walks a compound packet. next() returns nullopt at the end or on the first malformed
// sub-packet (bad version, length beyond the buffer, bad padding); malformed() tells
// which. Length is in 32-bit words minus one (RFC 3550 §6.4.1).
class RtcpIterator {
 public:
  explicit RtcpIterator(ByteSpan compound) : data_(compound) {}
  std::optional<RtcpPacketView> next();
  bool malformed() const { return malformed_; }

 private:
  ByteSpan data_;
  size_t offset_ = 0;
  bool malformed_ = false;
};

// RFC 3550 §6.1 / A.2: every sub-packet well formed and the first one is SR or RR.
// (Reduced-size RTCP, RFC 5506, relaxes the first rule; use RtcpIterator directly then.)
bool is_valid_compound(ByteSpan compound);

// RFC 3550 §6.4.1 report block.
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // fixed point /256
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t highest_seq = 0;     // extended highest sequence number received
  uint32_t jitter = 0;
  uint32_t lsr = 0;             // middle 32 bits of the last SR NTP timestamp
  uint32_t dlsr = 0;            // 1/65536 s since that SR
  bool operator==(const ReportBlock&) const = default;
};
inline constexpr size_t kMaxReportBlocks = 31;  // 5-bit RC

struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntp = 0;
  uint32_t rtp_ts = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> blocks;
  bool operator==(const SenderReport&) const = default;
};

struct ReceiverReport {
  uint32_t ssrc = 0;
  std::vector<ReportBlock> blocks;
  bool operator==(const ReceiverReport&) const = default;
};

// RFC 3550 §6.5: only CNAME (item 1) is kept; other items are skipped.
struct SdesChunk {
  uint32_t ssrc = 0;
  std::string cname;
  bool operator==(const SdesChunk&) const = default;
};
struct Sdes {
  std::vector<SdesChunk> chunks;
  bool operator==(const Sdes&) const = default;
};

// RFC 3550 §6.6.
struct Bye {
  std::vector<uint32_t> ssrcs;
  std::string reason;
  bool operator==(const Bye&) const = default;
};

std::optional<SenderReport> parse_sender_report(const RtcpPacketView& v);
std::optional<ReceiverReport> parse_receiver_report(const RtcpPacketView& v);
std::optional<Sdes> parse_sdes(const RtcpPacketView& v);
std::optional<Bye> parse_bye(const RtcpPacketView& v);

// Builders append one sub-packet to `out`. They return false (appending nothing) when a
// count exceeds its 5-bit field or an item exceeds its 8-bit length.
bool append_sender_report(Bytes& out, const SenderReport& sr);
bool append_receiver_report(Bytes& out, const ReceiverReport& rr);
bool append_sdes(Bytes& out, const Sdes& sdes);
bool append_bye(Bytes& out, const Bye& bye);

// Compound RR (+ optional SDES CNAME) + already-built feedback sub-packets, so the result
// starts with RR as RFC 3550 §6.1 requires. Empty on builder failure.
Bytes build_compound_feedback(uint32_t sender_ssrc, std::span<const ReportBlock> blocks,
                              ByteSpan feedback, std::string_view cname = {});

// Low-level helpers shared by the builders: write the 4-byte header with a placeholder
// length, then fix the length (and zero-pad to 32 bits) once the body is appended.
size_t begin_rtcp_packet(Bytes& out, uint8_t count, uint8_t type);
void finish_rtcp_packet(Bytes& out, size_t start);

}  // namespace strata::rtp
