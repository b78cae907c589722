// SCTP fuzz body: a data channel's packets are a stranger's bytes once DTLS has decrypted them
// (RFC 8261). The input is a packet whose checksum the target stamps first (a fuzzer cannot
// find CRC-32C values; a wrong checksum is refused before any chunk is read, which
// checksum-flipping rows in the unit tests cover). Every chunk goes through every parser of
// its type; what parses must rebuild into a chunk that parses back equal; the DATA chunks
// with PPID 50 go through the DCEP parser. Then the same bytes, cut into packets, drive an
// established Association (each packet's tag and checksum stamped so it gets past the
// checks a peer passes anyway): whatever it sends stays within the MTU, whatever it delivers
// within the message size limit.
#include <cstring>

#include "common/bytes.hpp"
#include "datachannel/dcep.hpp"
#include "sctp/association.hpp"
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

constexpr uint32_t kLocalTag = 0x11111111;
constexpr uint32_t kPeerTag = 0x22222222;
constexpr uint32_t kPeerTsn = 0xFFFFFF00;  // wraps soon

Bytes peer_packet(const std::vector<Bytes>& chunks) {
  Bytes p;
  begin_packet(p, {5000, 5000, kLocalTag});
  for (const Bytes& c : chunks) p.insert(p.end(), c.begin(), c.end());
  finish_packet(p);
  return p;
}

// An association brought up by a scripted peer: its INIT, then the COOKIE ECHO of the cookie
// the association sent.
std::unique_ptr<Association> established(Timestamp now) {
  AssociationConfig c;
  c.local_tag = kLocalTag;
  c.initial_tsn = 1000;
  c.max_message_size = 64 * 1024;
  c.receive_window = 128 * 1024;
  auto a = std::make_unique<Association>(c);
  InitChunk init;
  init.initiate_tag = kPeerTag;
  init.a_rwnd = 1 << 20;
  init.outbound_streams = init.inbound_streams = 16;
  init.initial_tsn = kPeerTsn;
  init.forward_tsn_supported = true;
  init.supported_extensions = {uint8_t(ChunkType::kForwardTsn), uint8_t(ChunkType::kReconfig)};
  Bytes p;
  begin_packet(p, {5000, 5000, 0});
  append_init(p, ChunkType::kInit, init);
  finish_packet(p);
  a->handle_packet(p, now);
  STRATA_FUZZ_CHECK("sctp", a->packets().size() == 1);
  auto ack = parse_init(*ChunkIterator(a->packets()[0]).next());
  STRATA_FUZZ_CHECK("sctp", ack.has_value());
  Bytes echo;
  append_cookie_echo(echo, ack->state_cookie);
  a->handle_packet(peer_packet({echo}), now);
  STRATA_FUZZ_CHECK("sctp", a->established());
  a->packets().clear();
  return a;
}

// Input records: a 2-byte length, then that many bytes as a packet (its header overwritten);
// a zero length advances time by 250 ms and fires the timers.
void drive_association(const uint8_t* data, size_t size) {
  Timestamp now{Duration(1'000'000'000)};
  auto a = established(now);
  const Bytes reply = {'o', 'k'};
  for (size_t at = 0; at + 2 <= size;) {
    const size_t n = std::min<size_t>(load_be16(data + at), size - at - 2);
    at += 2;
    if (n == 0) {
      now += std::chrono::milliseconds(250);
      a->handle_timeout(now);
    } else {
      Bytes p(data + at, data + at + n);
      if (p.size() >= kCommonHeaderSize) {
        store_be16(&p[0], 5000);
        store_be16(&p[2], 5000);
        // An INIT must carry tag 0, anything else ours (RFC 9260 §8.5.1).
        store_be32(&p[4], p.size() > kCommonHeaderSize && p[kCommonHeaderSize] == uint8_t(ChunkType::kInit) ? 0 : kLocalTag);
        stamp_checksum(p);
      }
      a->handle_packet(p, now);
      at += n;
    }
    for (const Bytes& out : a->packets()) STRATA_FUZZ_CHECK("sctp", out.size() <= 1200 && parse_common_header(out).has_value());
    a->packets().clear();
    for (const ReceivedMessage& m : a->messages()) STRATA_FUZZ_CHECK("sctp", m.data.size() <= 64 * 1024 && !m.data.empty());
    if (!a->messages().empty() && a->established()) a->send(1, 51, reply, {}, now);
    a->messages().clear();
    STRATA_FUZZ_CHECK("sctp", a->next_timeout() >= now || a->state() == AssociationState::kClosed);
  }
}

}  // namespace

int sctp_one_input(const uint8_t* data, size_t size) {
  drive_association(data, size);
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
