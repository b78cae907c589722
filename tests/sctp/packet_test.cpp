// SCTP packets and chunks: CRC-32C vectors, table-driven malformed rows, round trips, and a
// whole usrsctp association (tests/data/sctp/usrsctp_session.txt, another implementation's
// bytes) parsed chunk by chunk and rebuilt byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "sctp/chunks.hpp"
#include "sctp/crc32c.hpp"
#include "sctp/packet.hpp"

namespace strata::sctp {
namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(crc32c(Bytes(32, 0)), 0x8A9136AAu);           // RFC 3720 §B.4: 32 bytes of zeros
  EXPECT_EQ(crc32c(Bytes(32, 0xFF)), 0x62A8AB43u);        // 32 bytes of ones
  Bytes inc(32);
  for (size_t k = 0; k < inc.size(); ++k) inc[k] = uint8_t(k);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);  // incrementing
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, ContinuesAcrossSplits) {
  const Bytes all = bytes_of("an SCTP packet is checked as one run of bytes, whatever the split");
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    const ByteSpan s(all);
    EXPECT_EQ(crc32c(s.subspan(cut), crc32c(s.first(cut))), crc32c(all)) << cut;
  }
}

// A packet of the given chunks (hex, each with its header), checksum stamped.
Bytes packet_with(std::string_view chunks_hex, uint32_t tag = 0x01020304) {
  Bytes out;
  begin_packet(out, {5000, 5000, tag});
  const Bytes chunks = from_hex(chunks_hex);
  out.insert(out.end(), chunks.begin(), chunks.end());
  finish_packet(out);
  return out;
}

TEST(SctpPacket, HeaderAndChecksum) {
  Bytes p = packet_with("0b000004");  // COOKIE ACK
  PacketError error{};
  auto h = parse_common_header(p, &error);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (CommonHeader{5000, 5000, 0x01020304}));
  for (size_t k = 0; k < p.size(); ++k) {
    Bytes bad = p;
    bad[k] ^= 0x10;
    EXPECT_FALSE(parse_common_header(bad, &error)) << "byte " << k;
    EXPECT_EQ(error, PacketError::kBadChecksum);
  }
  EXPECT_FALSE(parse_common_header(ByteSpan(p).first(15), &error));
  EXPECT_EQ(error, PacketError::kTooShort);
}

struct ChunkRow {
  const char* name;
  const char* chunks;  // hex after the common header
  size_t chunk_count;  // chunks returned before the end or the malformed one
  bool malformed;
};

const ChunkRow kChunkRows[] = {
    {"one empty chunk", "0b000004", 1, false},
    {"two chunks", "0b000004 0e000004", 2, false},
    {"padding after a 5-byte chunk", "00000005 aa000000 0b000004", 2, false},
    {"last chunk's padding missing", "0b000004 00000005 aa", 2, false},
    {"last chunk's padding short", "0b000004 00000006 aabb 00", 2, false},
    {"length 3", "0b000003", 0, true},
    {"length 0", "0b000000", 0, true},
    {"length past the packet", "0b000004 00000010 aaaa", 1, true},
    {"3 bytes left after a chunk", "0b000004 0e0000", 1, true},
};

TEST(SctpPacket, ChunkIteratorRows) {
  for (const ChunkRow& row : kChunkRows) {
    SCOPED_TRACE(row.name);
    const Bytes p = packet_with(row.chunks);
    ChunkIterator it(p);
    size_t n = 0;
    while (it.next()) ++n;
    EXPECT_EQ(n, row.chunk_count);
    EXPECT_EQ(it.malformed(), row.malformed);
  }
}

std::optional<ChunkView> first_chunk(const Bytes& p) { return ChunkIterator(p).next(); }

struct MalformedRow {
  const char* name;
  const char* chunk;
};

// Each row's chunk is well framed but its contents are not, so its typed parser refuses it.
const MalformedRow kMalformedRows[] = {
    {"DATA without user data", "0003 0010 00000001 0001 0000 00000033"},
    {"DATA fixed part cut", "0003 000c 00000001 0001 0000"},
    {"INIT tag 0", "0100 0014 00000000 00010000 000a 000a 00000001"},
    {"INIT no outbound streams", "0100 0014 00000001 00010000 0000 000a 00000001"},
    {"INIT no inbound streams", "0100 0014 00000001 00010000 000a 0000 00000001"},
    {"INIT fixed part cut", "0100 0010 00000001 00010000 000a 000a"},
    {"INIT parameter length past the chunk", "0100 001c 00000001 00010000 000a 000a 00000001 c0000010 0000 0000"},
    {"INIT parameter length 2", "0100 0018 00000001 00010000 000a 000a 00000001 c0000002"},
    {"INIT ACK without a cookie", "0200 0014 00000001 00010000 000a 000a 00000001"},
    {"SACK gap count past the chunk", "0300 0010 00000005 00010000 0001 0000"},
    {"SACK a byte more", "0300 0011 00000005 00010000 0000 0000 00"},
    {"SHUTDOWN 3 bytes", "0700 0007 000000"},
    {"FORWARD TSN half a stream", "c000 000a 00000009 0001"},
    {"RE-CONFIG empty", "8200 0004"},
    {"RE-CONFIG three parameters", "8200 0028 0010000c 00000001 00000001 0010000c 00000002 00000001 0010000c 00000003 00000001"},
    {"RE-CONFIG unknown parameter", "8200 000c 0099 0008 00000001"},
    {"RE-CONFIG outgoing reset cut", "8200 0010 000d 000c 00000001 00000002"},
    {"RE-CONFIG odd stream list", "8200 0014 000d 0011 00000001 00000002 00000003 01 000000"},
    {"RE-CONFIG response of 12 bytes", "8200 0014 0010 0010 00000001 00000001 00000002"},
    {"HEARTBEAT without info", "0400 0004"},
    {"HEARTBEAT with another parameter", "0400 0008 0002 0004"},
    {"ABORT cause past the chunk", "0600 0008 000c 0010"},
};

TEST(SctpChunks, MalformedRows) {
  for (const MalformedRow& row : kMalformedRows) {
    SCOPED_TRACE(row.name);
    const Bytes p = packet_with(row.chunk);
    auto c = first_chunk(p);
    ASSERT_TRUE(c) << "the row must be well framed";
    switch (ChunkType(c->type)) {
      case ChunkType::kData: EXPECT_FALSE(parse_data(*c)); break;
      case ChunkType::kInit:
      case ChunkType::kInitAck: EXPECT_FALSE(parse_init(*c)); break;
      case ChunkType::kSack: EXPECT_FALSE(parse_sack(*c)); break;
      case ChunkType::kShutdown: EXPECT_FALSE(parse_shutdown(*c)); break;
      case ChunkType::kForwardTsn: EXPECT_FALSE(parse_forward_tsn(*c)); break;
      case ChunkType::kReconfig: EXPECT_FALSE(parse_reconfig(*c)); break;
      case ChunkType::kHeartbeat: EXPECT_FALSE(parse_heartbeat_info(*c)); break;
      case ChunkType::kAbort: EXPECT_FALSE(parse_causes(*c)); break;
      default: ADD_FAILURE() << "no parser for type " << int(c->type);
    }
  }
}

TEST(SctpChunks, ParsersRefuseOtherTypes) {
  const Bytes p = packet_with("0b000004");
  auto c = first_chunk(p);
  ASSERT_TRUE(c);
  EXPECT_FALSE(parse_data(*c));
  EXPECT_FALSE(parse_init(*c));
  EXPECT_FALSE(parse_sack(*c));
  EXPECT_FALSE(parse_shutdown(*c));
  EXPECT_FALSE(parse_forward_tsn(*c));
  EXPECT_FALSE(parse_reconfig(*c));
  EXPECT_FALSE(parse_heartbeat_info(*c));
  EXPECT_FALSE(parse_causes(*c));
}

TEST(SctpChunks, UnknownChunkActions) {
  EXPECT_FALSE(unknown_chunk_action(0x3f).skip);  // 00: stop
  EXPECT_FALSE(unknown_chunk_action(0x3f).report);
  EXPECT_TRUE(unknown_chunk_action(0x40).report);  // 01: stop, report (I-DATA if not negotiated)
  EXPECT_FALSE(unknown_chunk_action(0x40).skip);
  EXPECT_TRUE(unknown_chunk_action(0x80).skip);  // 10: skip
  EXPECT_TRUE(unknown_chunk_action(0xc1).skip);  // 11: skip, report
  EXPECT_TRUE(unknown_chunk_action(0xc1).report);
}

TEST(SctpChunks, InitUnknownParameters) {
  // 0x8010 (10: skip), 0xC010 (11: skip and report), then Forward-TSN-Supported: read.
  auto p = packet_with("0100 0024 00000001 00010000 000a 000a 00000001 80100004 c0100006 abcd0000 c0000004");
  auto init = parse_init(*first_chunk(p));
  ASSERT_TRUE(init);
  EXPECT_TRUE(init->forward_tsn_supported);
  ASSERT_EQ(init->unrecognized.size(), 1u);
  EXPECT_EQ(to_hex(init->unrecognized[0]), "c0100006abcd");
  // 0x4010 (01: stop and report): Forward-TSN-Supported after it is not read.
  p = packet_with("0100 001c 00000001 00010000 000a 000a 00000001 40100004 c0000004");
  init = parse_init(*first_chunk(p));
  ASSERT_TRUE(init);
  EXPECT_FALSE(init->forward_tsn_supported);
  EXPECT_EQ(init->unrecognized.size(), 1u);
  // 0x0010 (00: stop, no report).
  p = packet_with("0100 001c 00000001 00010000 000a 000a 00000001 00100004 c0000004");
  init = parse_init(*first_chunk(p));
  ASSERT_TRUE(init);
  EXPECT_FALSE(init->forward_tsn_supported);
  EXPECT_TRUE(init->unrecognized.empty());
}

TEST(SctpChunks, InitAckReportsUnrecognizedParameters) {
  const Bytes unknown = from_hex("c0100006abcd");
  InitChunk ack;
  ack.initiate_tag = 7;
  ack.a_rwnd = 131072;
  ack.outbound_streams = ack.inbound_streams = 1024;
  ack.initial_tsn = 99;
  const Bytes cookie = from_hex("0011223344");
  ack.state_cookie = cookie;
  ack.forward_tsn_supported = true;
  ack.supported_extensions = {uint8_t(ChunkType::kForwardTsn), uint8_t(ChunkType::kReconfig)};
  ack.unrecognized = {unknown};
  Bytes p;
  begin_packet(p, {5000, 5000, 1});
  append_init(p, ChunkType::kInitAck, ack);
  finish_packet(p);
  auto parsed = parse_init(*first_chunk(p));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->initiate_tag, 7u);
  EXPECT_EQ(to_hex(parsed->state_cookie), "0011223344");
  EXPECT_TRUE(parsed->supports(ChunkType::kReconfig));
  EXPECT_TRUE(parsed->supports(ChunkType::kForwardTsn));
  EXPECT_FALSE(parsed->supports(ChunkType::kIData));
  // The reported parameter travels inside an Unrecognized Parameter (type 8) of the INIT ACK.
  EXPECT_NE(to_hex(p).find("0008000ac0100006abcd"), std::string::npos) << to_hex(p);
}

TEST(SctpChunks, RoundTrips) {
  Bytes p;
  begin_packet(p, {1, 2, 3});
  const Bytes payload = bytes_of("hi");
  append_data(p, {true, true, false, true, 10, 2, 0, 53, payload});
  append_sack(p, {9, 65536, {{2, 3}, {5, 5}}, {7}});
  append_forward_tsn(p, {12, {{2, 4}, {3, 1}}});
  append_reconfig(p, {{{1, 2, 3, {1, 3}}}, {{4, {5}}}, {}, {}});
  ReconfigChunk response;
  response.responses = {{2, uint32_t(ReconfigResult::kSuccessPerformed), 10, 20}};
  append_reconfig(p, response);
  append_heartbeat(p, ChunkType::kHeartbeat, bytes_of("time"));
  append_shutdown(p, 42);
  finish_packet(p);
  ASSERT_TRUE(parse_common_header(p));

  ChunkIterator it(p);
  auto d = parse_data(*it.next());
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->unordered && d->beginning && !d->ending && d->immediate);
  EXPECT_EQ(d->tsn, 10u);
  EXPECT_EQ(d->stream_id, 2);
  EXPECT_EQ(d->ppid, 53u);
  EXPECT_EQ(Bytes(d->user_data.begin(), d->user_data.end()), payload);
  auto s = parse_sack(*it.next());
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (SackChunk{9, 65536, {{2, 3}, {5, 5}}, {7}}));
  auto f = parse_forward_tsn(*it.next());
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (ForwardTsnChunk{12, {{2, 4}, {3, 1}}}));
  auto r = parse_reconfig(*it.next());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (ReconfigChunk{{{1, 2, 3, {1, 3}}}, {{4, {5}}}, {}, {}}));
  auto r2 = parse_reconfig(*it.next());
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, response);
  auto hb = parse_heartbeat_info(*it.next());
  ASSERT_TRUE(hb);
  EXPECT_EQ(Bytes(hb->begin(), hb->end()), bytes_of("time"));
  EXPECT_EQ(parse_shutdown(*it.next()), 42u);
  EXPECT_FALSE(it.next());
  EXPECT_FALSE(it.malformed());
}

TEST(SctpChunks, SackCapsItsEntries) {
  SackChunk s;
  s.gaps.resize(kMaxSackEntries - 10);
  s.duplicates.resize(100);
  Bytes p;
  begin_packet(p, {1, 2, 3});
  append_sack(p, s);
  finish_packet(p);
  auto parsed = parse_sack(*first_chunk(p));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->gaps.size(), kMaxSackEntries - 10);
  EXPECT_EQ(parsed->duplicates.size(), 10u);
}

TEST(SctpChunks, OversizedChunkIsRemoved) {
  Bytes p;
  begin_packet(p, {1, 2, 3});
  const size_t start = append_chunk_header(p, ChunkType::kData, 0);
  p.resize(p.size() + 70000);
  EXPECT_FALSE(finish_chunk(p, start));
  EXPECT_EQ(p.size(), kCommonHeaderSize);
}

// ---- another implementation's association ----

struct Captured {
  uint16_t from = 0;
  Bytes packet;
};

std::vector<Captured> usrsctp_session() {
  std::ifstream f(std::string(STRATA_TESTDATA_DIR) + "/sctp/usrsctp_session.txt");
  std::vector<Captured> out;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    Captured c;
    std::string hex;
    in >> c.from >> hex;
    c.packet = from_hex(hex);
    out.push_back(std::move(c));
  }
  return out;
}

// Rebuilds a chunk from its parsed form, for the chunk types Strata writes.
std::optional<Bytes> rebuild(const ChunkView& c, const CommonHeader& h) {
  Bytes out;
  begin_packet(out, h);
  switch (ChunkType(c.type)) {
    case ChunkType::kData: append_data(out, *parse_data(c)); break;
    case ChunkType::kSack: append_sack(out, *parse_sack(c)); break;
    case ChunkType::kReconfig: append_reconfig(out, *parse_reconfig(c)); break;
    case ChunkType::kShutdown: append_shutdown(out, *parse_shutdown(c)); break;
    case ChunkType::kCookieEcho: append_cookie_echo(out, c.value); break;
    case ChunkType::kCookieAck:
    case ChunkType::kShutdownAck:
    case ChunkType::kShutdownComplete: append_empty_chunk(out, ChunkType(c.type), c.flags); break;
    default: return std::nullopt;  // INIT / INIT ACK carry parameters Strata does not send
  }
  finish_packet(out);
  return out;
}

TEST(SctpUsrsctp, EveryPacketParsesAndRebuilds) {
  const auto session = usrsctp_session();
  ASSERT_EQ(session.size(), 17u);
  const std::vector<ChunkType> want = {
      ChunkType::kInit, ChunkType::kInitAck, ChunkType::kCookieEcho, ChunkType::kCookieAck, ChunkType::kData,
      ChunkType::kSack, ChunkType::kData, ChunkType::kData, ChunkType::kData, ChunkType::kSack, ChunkType::kData,
      ChunkType::kSack, ChunkType::kReconfig, ChunkType::kReconfig, ChunkType::kShutdown, ChunkType::kShutdownAck,
      ChunkType::kShutdownComplete};
  size_t rebuilt = 0;
  for (size_t k = 0; k < session.size(); ++k) {
    SCOPED_TRACE(k);
    const auto& p = session[k].packet;
    auto h = parse_common_header(p);
    ASSERT_TRUE(h) << "checksum";
    EXPECT_EQ(h->source_port, session[k].from);
    ChunkIterator it(p);
    auto c = it.next();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->type, uint8_t(want[k]));
    EXPECT_FALSE(it.next());
    EXPECT_FALSE(it.malformed());
    if (auto again = rebuild(*c, *h)) {
      EXPECT_EQ(to_hex(*again), to_hex(p));
      ++rebuilt;
    }
  }
  EXPECT_EQ(rebuilt, 15u);
}

TEST(SctpUsrsctp, HandshakeMessagesAndReset) {
  const auto session = usrsctp_session();
  ASSERT_EQ(session.size(), 17u);
  auto chunk = [&](size_t k) { return *ChunkIterator(session[k].packet).next(); };
  auto header = [&](size_t k) { return *parse_common_header(session[k].packet); };

  const auto init = parse_init(chunk(0));
  ASSERT_TRUE(init);
  EXPECT_EQ(header(0).verification_tag, 0u);  // §8.5.1: an INIT carries tag 0
  EXPECT_TRUE(init->forward_tsn_supported);
  EXPECT_TRUE(init->supports(ChunkType::kReconfig));
  EXPECT_TRUE(init->supports(ChunkType::kForwardTsn));
  const auto ack = parse_init(chunk(1));
  ASSERT_TRUE(ack);
  EXPECT_EQ(header(1).verification_tag, init->initiate_tag);
  EXPECT_EQ(header(2).verification_tag, ack->initiate_tag);
  EXPECT_EQ(to_hex(chunk(2).value), to_hex(ack->state_cookie));  // COOKIE ECHO echoes it

  const auto hello = parse_data(chunk(4));
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->tsn, ack->initial_tsn);
  EXPECT_EQ(hello->stream_id, 1);
  EXPECT_EQ(hello->ppid, 51u);
  EXPECT_TRUE(hello->beginning && hello->ending && !hello->unordered);
  EXPECT_EQ(std::string(hello->user_data.begin(), hello->user_data.end()), "hello");
  EXPECT_EQ(parse_sack(chunk(5))->cumulative_tsn_ack, hello->tsn);

  // The 3000-byte message in fragments: B on the first, E on the last, one SSN, TSNs in a row.
  Bytes message;
  for (size_t k = 6; k <= 8; ++k) {
    const auto d = parse_data(chunk(k));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->tsn, hello->tsn + uint32_t(k - 5));
    EXPECT_EQ(d->ssn, 1);
    EXPECT_EQ(d->ppid, 53u);
    EXPECT_EQ(d->beginning, k == 6);
    EXPECT_EQ(d->ending, k == 8);
    message.insert(message.end(), d->user_data.begin(), d->user_data.end());
  }
  ASSERT_EQ(message.size(), 3000u);
  for (size_t k = 0; k < message.size(); ++k) ASSERT_EQ(message[k], uint8_t(k)) << k;
  // usrsctp acknowledges every second packet at once (RFC 9260 §6.2) and the third later.
  EXPECT_EQ(parse_sack(chunk(9))->cumulative_tsn_ack, hello->tsn + 2);

  const auto u = parse_data(chunk(10));
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->unordered);
  EXPECT_EQ(u->stream_id, 3);

  const auto request = parse_reconfig(chunk(12));
  ASSERT_TRUE(request);
  ASSERT_EQ(request->outgoing.size(), 1u);
  EXPECT_EQ(request->outgoing[0].streams, std::vector<uint16_t>{1});
  EXPECT_EQ(request->outgoing[0].sender_last_tsn, u->tsn);
  const auto response = parse_reconfig(chunk(13));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->responses.size(), 1u);
  EXPECT_EQ(response->responses[0].response_seq, request->outgoing[0].request_seq);
  EXPECT_EQ(response->responses[0].result, uint32_t(ReconfigResult::kSuccessPerformed));

  // The listening side's SHUTDOWN acknowledges what it received: nothing after the INIT's TSN.
  EXPECT_EQ(parse_shutdown(chunk(14)), init->initial_tsn - 1);
  EXPECT_FALSE(tag_reflected(chunk(16)));
}

}  // namespace
}  // namespace strata::sctp
