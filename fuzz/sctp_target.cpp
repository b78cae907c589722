// SCTP fuzz body: a data channel's packets are a stranger's bytes once DTLS has decrypted them
// (RFC 8261). The input is a packet whose checksum the target stamps first (a fuzzer cannot
// find CRC-32C values; a wrong checksum is refused before any chunk is read, which
// checksum-flipping rows in the unit tests cover). Every chunk goes through every parser of
// its type; what parses must rebuild into a chunk that parses back equal; the DATA chunks
// with PPID 50 go through the DCEP parser.
#include <cstring>

#include "common/bytes.hpp"
#include "datachannel/dcep.hpp"
#include "sctp/chunks.hpp"
#include "sctp/packet.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

using namespace strata::sctp;

volatile size_t g_sink = 0;

// Parses the one chunk of a rebuilt packet.
ChunkView only_chunk(const Bytes& p) {
  ChunkIterator it(p);
  auto c = it.next();
  STRATA_FUZZ_CHECK("sctp", c.has_value() && !it.next() && !it.malformed());
  return *c;
}

template <typename T, typename Parse, typename Append>
void round_trip(const T& value, Parse parse, Append append) {
  Bytes p;
  begin_packet(p, {1, 2, 3});
  append(p, value);
  finish_packet(p);
  STRATA_FUZZ_CHECK("sctp", parse_common_header(p).has_value());
  auto again = parse(only_chunk(p));
  STRATA_FUZZ_CHECK("sctp", again.has_value() && *again == value);
}

void data_chunk(const ChunkView& c) {
  auto d = parse_data(c);
  if (!d) return;
  STRATA_FUZZ_CHECK("sctp", !d->user_data.empty());
  Bytes p;
  begin_packet(p, {1, 2, 3});
  append_data(p, *d);
  finish_packet(p);
  auto again = parse_data(only_chunk(p));
  STRATA_FUZZ_CHECK("sctp", again && again->tsn == d->tsn && again->ppid == d->ppid && again->stream_id == d->stream_id &&
                                again->ssn == d->ssn && again->unordered == d->unordered && again->beginning == d->beginning &&
                                again->ending == d->ending && again->immediate == d->immediate &&
                                again->user_data.size() == d->user_data.size() &&
                                std::memcmp(again->user_data.data(), d->user_data.data(), d->user_data.size()) == 0);
  if (d->ppid == uint32_t(datachannel::Ppid::kDcep)) g_sink = g_sink + datachannel::parse_dcep(d->user_data).index();
  g_sink = g_sink + size_t(datachannel::payload_of(d->ppid));
}

void init_chunk(const ChunkView& c) {
  auto init = parse_init(c);
  if (!init) return;
  STRATA_FUZZ_CHECK("sctp", init->initiate_tag != 0 && init->outbound_streams != 0 && init->inbound_streams != 0);
  STRATA_FUZZ_CHECK("sctp", !c.is(ChunkType::kInitAck) || !init->state_cookie.empty());
  Bytes p;
  begin_packet(p, {1, 2, 3});
  append_init(p, ChunkType(c.type), *init);
  finish_packet(p);
  auto again = parse_init(only_chunk(p));
  STRATA_FUZZ_CHECK("sctp", again && again->initiate_tag == init->initiate_tag && again->initial_tsn == init->initial_tsn &&
                                again->forward_tsn_supported == init->forward_tsn_supported &&
                                again->supported_extensions == init->supported_extensions &&
                                (c.is(ChunkType::kInit) || again->state_cookie.size() == init->state_cookie.size()));
}

void one_chunk(const ChunkView& c) {
  switch (ChunkType(c.type)) {
    case ChunkType::kData: data_chunk(c); break;
    case ChunkType::kInit:
    case ChunkType::kInitAck: init_chunk(c); break;
    case ChunkType::kSack:
      if (auto s = parse_sack(c)) round_trip(*s, parse_sack, append_sack);
      break;
    case ChunkType::kForwardTsn:
      if (auto f = parse_forward_tsn(c)) round_trip(*f, parse_forward_tsn, append_forward_tsn);
      break;
    case ChunkType::kReconfig:
      if (auto r = parse_reconfig(c); r && r->others.empty()) round_trip(*r, parse_reconfig, append_reconfig);
      break;
    case ChunkType::kShutdown:
      if (auto s = parse_shutdown(c)) round_trip(*s, parse_shutdown, append_shutdown);
      break;
    case ChunkType::kHeartbeat:
    case ChunkType::kHeartbeatAck:
      if (auto info = parse_heartbeat_info(c)) g_sink = g_sink + info->size();
      break;
    case ChunkType::kAbort:
    case ChunkType::kError:
      if (auto causes = parse_causes(c)) g_sink = g_sink + causes->size() + tag_reflected(c);
      break;
    default: {
      const auto action = unknown_chunk_action(c.type);
      g_sink = g_sink + action.skip + action.report;
    }
  }
}

}  // namespace

int sctp_one_input(const uint8_t* data, size_t size) {
  Bytes packet(data, data + size);
  stamp_checksum(packet);
  PacketError error{};
  auto header = parse_common_header(packet, &error);
  STRATA_FUZZ_CHECK("sctp", header.has_value() == (size >= kCommonHeaderSize + kChunkHeaderSize));
  if (!header) return 0;
  ChunkIterator it(packet);
  size_t chunks = 0;
  while (auto c = it.next()) {
    STRATA_FUZZ_CHECK("sctp", ++chunks <= size / kChunkHeaderSize);
    one_chunk(*c);
  }
  return 0;
}

}  // namespace strata::fuzz
