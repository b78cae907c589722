// RTCP feedback messages (RFC 4585 §6): generic NACK (RTPFB fmt 1), PLI (PSFB fmt 1),
// FIR (PSFB fmt 4, RFC 5104 §4.3.1) and REMB (PSFB fmt 15, draft-alvestrand-rmcat-remb).
// Transport-wide CC feedback (RTPFB fmt 15) lives in rtcp_transport_cc.hpp.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.hpp"
#include "rtp/rtcp.hpp"

namespace strata::rtp {

inline constexpr uint8_t kFmtNack = 1;
inline constexpr uint8_t kFmtTransportCc = 15;
inline constexpr uint8_t kFmtPli = 1;
inline constexpr uint8_t kFmtFir = 4;
inline constexpr uint8_t kFmtAfb = 15;  // application layer feedback; REMB uses it

// RFC 4585 §6.2.1: PID plus a bitmask of the following 16 lost packets.
struct NackItem {
  uint16_t pid = 0;
  uint16_t blp = 0;
  bool operator==(const NackItem&) const = default;
};

struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::vector<NackItem> items;
  bool operator==(const Nack&) const = default;
};

// All sequence numbers the items name, in item order.
std::vector<uint16_t> expand_nack_items(std::span<const NackItem> items);
// Packs sequence numbers (ascending in wrap-around order, duplicates tolerated) into
// PID+BLP items: a number within 1..16 after the current PID becomes a bit in its BLP.
std::vector<NackItem> nack_items_from_sequences(std::span<const uint16_t> seqs);

struct Pli {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  bool operator==(const Pli&) const = default;
};

// RFC 5104 §4.3.1.1: one FCI entry per requested SSRC; media SSRC in the common header
// is unused (0).
struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t seq_nr = 0;
  bool operator==(const FirEntry&) const = default;
};
struct Fir {
  uint32_t sender_ssrc = 0;
  std::vector<FirEntry> entries;
  bool operator==(const Fir&) const = default;
};

// draft-alvestrand-rmcat-remb-03 §2.2: "REMB", SSRC count, 6-bit exponent, 18-bit mantissa.
struct Remb {
  uint32_t sender_ssrc = 0;
  uint64_t bitrate_bps = 0;
  std::vector<uint32_t> ssrcs;
  bool operator==(const Remb&) const = default;
};

std::optional<Nack> parse_nack(const RtcpPacketView& v);
std::optional<Pli> parse_pli(const RtcpPacketView& v);
std::optional<Fir> parse_fir(const RtcpPacketView& v);
std::optional<Remb> parse_remb(const RtcpPacketView& v);

bool append_nack(Bytes& out, const Nack& nack);
bool append_pli(Bytes& out, const Pli& pli);
bool append_fir(Bytes& out, const Fir& fir);
// The bitrate is rounded down to what the 18-bit mantissa can express.
bool append_remb(Bytes& out, const Remb& remb);

}  // namespace strata::rtp
