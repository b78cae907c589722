#include "sctp/chunks.hpp"

#include <algorithm>

namespace strata::sctp {
namespace {

constexpr size_t kDataFixed = 12;  // TSN, stream id, SSN, PPID (RFC 9260 §3.3.1)
constexpr size_t kInitFixed = 16;  // tag, a_rwnd, streams out/in, initial TSN (§3.3.2)
constexpr size_t kSackFixed = 12;  // cumulative TSN ack, a_rwnd, gap and duplicate counts
constexpr size_t kTlvHeader = 4;

constexpr uint8_t kFlagEnding = 0x01;
constexpr uint8_t kFlagBeginning = 0x02;
constexpr uint8_t kFlagUnordered = 0x04;
constexpr uint8_t kFlagImmediate = 0x08;

void pad_to_4(Bytes& out) { out.resize(pad4(out.size()), 0); }

// A TLV (parameter or error cause) whose value is written by `body`. The padding goes before
// the next TLV, not after this one: a chunk's length counts the padding of every parameter
// but the last (RFC 9260 §3.2), so finish_chunk must see the last one unpadded. (Chunks start
// on 4-byte boundaries of the packet, which begins at the buffer's start.)
template <typename Body>
void append_tlv(Bytes& out, uint16_t type, Body&& body) {
  pad_to_4(out);
  const size_t start = out.size();
  ByteWriter w(out);
  w.u16(type);
  w.u16(0);
  body(w);
  store_be16(&out[start + 2], uint16_t(out.size() - start));
}

// Reads `count` 16-bit stream ids from `v` (whose size is exactly 2 * count).
std::optional<std::vector<uint16_t>> read_streams(ByteSpan v) {
  if (v.size() % 2 != 0) return std::nullopt;
  std::vector<uint16_t> streams(v.size() / 2);
  for (size_t k = 0; k < streams.size(); ++k) streams[k] = load_be16(&v[2 * k]);
  return streams;
}

// Whole TLV bytes of a parameter view (its header sits just before its value).
ByteSpan whole_tlv(const ParamView& p) { return ByteSpan(p.value.data() - kTlvHeader, p.value.size() + kTlvHeader); }

void read_init_param(InitChunk& init, const ParamView& p, bool* stop) {
  switch (ParamType(p.type)) {
    case ParamType::kStateCookie:
      init.state_cookie = p.value;
      return;
    case ParamType::kForwardTsnSupported:
      init.forward_tsn_supported = true;
      return;
    case ParamType::kZeroChecksumAcceptable:
      init.zero_checksum_acceptable = true;
      return;
    case ParamType::kSupportedExtensions:
      init.supported_extensions.assign(p.value.begin(), p.value.end());
      return;
    case ParamType::kCookiePreservative:
    case ParamType::kSupportedAddressTypes:
    case ParamType::kEcnCapable:
    case ParamType::kRandom:
    case ParamType::kChunkList:
    case ParamType::kHmacAlgorithm:
      return;  // known, not acted on (no ECN, no AUTH; addresses mean nothing over DTLS)
    default:
      break;
  }
  // RFC 9260 §3.2.1: the two high bits of an unknown type.
  if (p.type & 0x4000) init.unrecognized.push_back(whole_tlv(p));
  *stop = (p.type & 0x8000) == 0;
}

}  // namespace

std::optional<DataChunk> parse_data(const ChunkView& c) {
  if (!c.is(ChunkType::kData) || c.value.size() < kDataFixed + 1) return std::nullopt;  // §3.3.1: no empty DATA
  const uint8_t* p = c.value.data();
  DataChunk d;
  d.unordered = c.flags & kFlagUnordered;
  d.beginning = c.flags & kFlagBeginning;
  d.ending = c.flags & kFlagEnding;
  d.immediate = c.flags & kFlagImmediate;
  d.tsn = load_be32(p);
  d.stream_id = load_be16(p + 4);
  d.ssn = load_be16(p + 6);
  d.ppid = load_be32(p + 8);
  d.user_data = c.value.subspan(kDataFixed);
  return d;
}

void append_data(Bytes& out, const DataChunk& d) {
  const uint8_t flags = uint8_t((d.unordered ? kFlagUnordered : 0) | (d.beginning ? kFlagBeginning : 0) |
                                (d.ending ? kFlagEnding : 0) | (d.immediate ? kFlagImmediate : 0));
  const size_t start = append_chunk_header(out, ChunkType::kData, flags);
  ByteWriter w(out);
  w.u32(d.tsn);
  w.u16(d.stream_id);
  w.u16(d.ssn);
  w.u32(d.ppid);
  w.bytes(d.user_data);
  finish_chunk(out, start);
}

std::optional<ParamView> ParamIterator::next() {
  const auto tlv = next_tlv(data_, offset_, malformed_);
  if (!tlv) return std::nullopt;
  return ParamView{load_be16(tlv->data()), tlv->subspan(kTlvHeader)};
}

void append_param(Bytes& out, ParamType type, ByteSpan value) {
  append_tlv(out, uint16_t(type), [&](ByteWriter& w) { w.bytes(value); });
}

bool InitChunk::supports(ChunkType t) const {
  return std::find(supported_extensions.begin(), supported_extensions.end(), uint8_t(t)) != supported_extensions.end();
}

std::optional<InitChunk> parse_init(const ChunkView& c) {
  const bool ack = c.is(ChunkType::kInitAck);
  if ((!ack && !c.is(ChunkType::kInit)) || c.value.size() < kInitFixed) return std::nullopt;
  const uint8_t* p = c.value.data();
  InitChunk init;
  init.initiate_tag = load_be32(p);
  init.a_rwnd = load_be32(p + 4);
  init.outbound_streams = load_be16(p + 8);
  init.inbound_streams = load_be16(p + 10);
  init.initial_tsn = load_be32(p + 12);
  // §3.3.2: a zero tag or stream count is a protocol error.
  if (init.initiate_tag == 0 || init.outbound_streams == 0 || init.inbound_streams == 0) return std::nullopt;
  ParamIterator params(c.value.subspan(kInitFixed));
  bool stop = false;
  while (!stop) {
    auto param = params.next();
    if (!param) break;
    read_init_param(init, *param, &stop);
  }
  if (params.malformed()) return std::nullopt;
  if (ack && init.state_cookie.empty()) return std::nullopt;  // §3.3.3: mandatory
  return init;
}

void append_init(Bytes& out, ChunkType type, const InitChunk& init) {
  const size_t start = append_chunk_header(out, type, 0);
  ByteWriter w(out);
  w.u32(init.initiate_tag);
  w.u32(init.a_rwnd);
  w.u16(init.outbound_streams);
  w.u16(init.inbound_streams);
  w.u32(init.initial_tsn);
  if (init.forward_tsn_supported) append_param(out, ParamType::kForwardTsnSupported, {});
  if (!init.supported_extensions.empty()) append_param(out, ParamType::kSupportedExtensions, init.supported_extensions);
  if (type == ChunkType::kInitAck) {
    append_param(out, ParamType::kStateCookie, init.state_cookie);
    // As many reported parameters as the chunk's 16-bit length leaves room for.
    for (ByteSpan u : init.unrecognized) {
      if (pad4(out.size()) - start + kTlvHeader + u.size() > 0xFFFF) break;
      append_param(out, ParamType::kUnrecognizedParameter, u);
    }
  }
  finish_chunk(out, start);
}

std::optional<SackChunk> parse_sack(const ChunkView& c) {
  if (!c.is(ChunkType::kSack) || c.value.size() < kSackFixed) return std::nullopt;
  const uint8_t* p = c.value.data();
  SackChunk s;
  s.cumulative_tsn_ack = load_be32(p);
  s.a_rwnd = load_be32(p + 4);
  const size_t gaps = load_be16(p + 8);
  const size_t dups = load_be16(p + 10);
  if (c.value.size() != kSackFixed + 4 * (gaps + dups)) return std::nullopt;
  s.gaps.resize(gaps);
  for (size_t k = 0; k < gaps; ++k) s.gaps[k] = {load_be16(p + kSackFixed + 4 * k), load_be16(p + kSackFixed + 4 * k + 2)};
  s.duplicates.resize(dups);
  for (size_t k = 0; k < dups; ++k) s.duplicates[k] = load_be32(p + kSackFixed + 4 * (gaps + k));
  return s;
}

void append_sack(Bytes& out, const SackChunk& s) {
  const size_t gaps = std::min(s.gaps.size(), kMaxSackEntries);
  const size_t dups = std::min(s.duplicates.size(), kMaxSackEntries - gaps);
  const size_t start = append_chunk_header(out, ChunkType::kSack, 0);
  ByteWriter w(out);
  w.u32(s.cumulative_tsn_ack);
  w.u32(s.a_rwnd);
  w.u16(uint16_t(gaps));
  w.u16(uint16_t(dups));
  for (size_t k = 0; k < gaps; ++k) {
    w.u16(s.gaps[k].start);
    w.u16(s.gaps[k].end);
  }
  for (size_t k = 0; k < dups; ++k) w.u32(s.duplicates[k]);
  finish_chunk(out, start);
}

std::optional<ByteSpan> parse_heartbeat_info(const ChunkView& c) {
  if (!c.is(ChunkType::kHeartbeat) && !c.is(ChunkType::kHeartbeatAck)) return std::nullopt;
  ParamIterator params(c.value);
  auto info = params.next();
  if (!info || !info->is(ParamType::kHeartbeatInfo)) return std::nullopt;
  return info->value;
}

void append_heartbeat(Bytes& out, ChunkType type, ByteSpan info) {
  const size_t start = append_chunk_header(out, type, 0);
  append_param(out, ParamType::kHeartbeatInfo, info);
  finish_chunk(out, start);
}

std::optional<std::vector<ErrorCause>> parse_causes(const ChunkView& c) {
  if (!c.is(ChunkType::kAbort) && !c.is(ChunkType::kError)) return std::nullopt;
  ParamIterator causes(c.value);  // error causes share the parameters' TLV form (§3.3.10)
  std::vector<ErrorCause> out;
  while (auto cause = causes.next()) out.push_back({cause->type, cause->value});
  if (causes.malformed()) return std::nullopt;
  return out;
}

void append_cause(Bytes& out, CauseCode code, ByteSpan info) {
  append_tlv(out, uint16_t(code), [&](ByteWriter& w) { w.bytes(info); });
}

std::optional<uint32_t> parse_shutdown(const ChunkView& c) {
  if (!c.is(ChunkType::kShutdown) || c.value.size() != 4) return std::nullopt;
  return load_be32(c.value.data());
}

std::optional<ForwardTsnChunk> parse_forward_tsn(const ChunkView& c) {
  if (!c.is(ChunkType::kForwardTsn) || c.value.size() < 4 || c.value.size() % 4 != 0) return std::nullopt;
  ForwardTsnChunk f;
  f.new_cumulative_tsn = load_be32(c.value.data());
  for (size_t at = 4; at < c.value.size(); at += 4) f.streams.push_back({load_be16(&c.value[at]), load_be16(&c.value[at + 2])});
  return f;
}

void append_forward_tsn(Bytes& out, const ForwardTsnChunk& f) {
  const size_t start = append_chunk_header(out, ChunkType::kForwardTsn, 0);
  ByteWriter w(out);
  w.u32(f.new_cumulative_tsn);
  for (const auto& s : f.streams) {
    w.u16(s.stream_id);
    w.u16(s.ssn);
  }
  finish_chunk(out, start);
}

namespace {

bool read_reconfig_param(ReconfigChunk& r, const ParamView& p) {
  const ByteSpan v = p.value;
  switch (ParamType(p.type)) {
    case ParamType::kOutgoingSsnReset: {
      if (v.size() < 12) return false;
      auto streams = read_streams(v.subspan(12));
      if (!streams) return false;
      r.outgoing.push_back({load_be32(&v[0]), load_be32(&v[4]), load_be32(&v[8]), std::move(*streams)});
      return true;
    }
    case ParamType::kIncomingSsnReset: {
      if (v.size() < 4) return false;
      auto streams = read_streams(v.subspan(4));
      if (!streams) return false;
      r.incoming.push_back({load_be32(&v[0]), std::move(*streams)});
      return true;
    }
    case ParamType::kReconfigResponse: {
      if (v.size() != 8 && v.size() != 16) return false;
      ReconfigResponse resp{load_be32(&v[0]), load_be32(&v[4]), std::nullopt, std::nullopt};
      if (v.size() == 16) {
        resp.sender_next_tsn = load_be32(&v[8]);
        resp.receiver_next_tsn = load_be32(&v[12]);
      }
      r.responses.push_back(resp);
      return true;
    }
    case ParamType::kSsnTsnReset:
      if (v.size() != 4) return false;
      r.others.push_back({p.type, load_be32(&v[0])});
      return true;
    case ParamType::kAddOutgoingStreams:
    case ParamType::kAddIncomingStreams:
      if (v.size() != 8) return false;
      r.others.push_back({p.type, load_be32(&v[0])});
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<ReconfigChunk> parse_reconfig(const ChunkView& c) {
  if (!c.is(ChunkType::kReconfig)) return std::nullopt;
  ReconfigChunk r;
  ParamIterator params(c.value);
  size_t count = 0;
  while (auto p = params.next()) {
    if (++count > 2 || !read_reconfig_param(r, *p)) return std::nullopt;  // RFC 6525 §3.1: one or two
  }
  if (params.malformed() || count == 0) return std::nullopt;
  return r;
}

void append_reconfig(Bytes& out, const ReconfigChunk& r) {
  const size_t start = append_chunk_header(out, ChunkType::kReconfig, 0);
  for (const auto& o : r.outgoing) {
    append_tlv(out, uint16_t(ParamType::kOutgoingSsnReset), [&](ByteWriter& w) {
      w.u32(o.request_seq);
      w.u32(o.response_seq);
      w.u32(o.sender_last_tsn);
      for (uint16_t s : o.streams) w.u16(s);
    });
  }
  for (const auto& i : r.incoming) {
    append_tlv(out, uint16_t(ParamType::kIncomingSsnReset), [&](ByteWriter& w) {
      w.u32(i.request_seq);
      for (uint16_t s : i.streams) w.u16(s);
    });
  }
  for (const auto& resp : r.responses) {
    append_tlv(out, uint16_t(ParamType::kReconfigResponse), [&](ByteWriter& w) {
      w.u32(resp.response_seq);
      w.u32(resp.result);
      if (resp.sender_next_tsn && resp.receiver_next_tsn) {
        w.u32(*resp.sender_next_tsn);
        w.u32(*resp.receiver_next_tsn);
      }
    });
  }
  finish_chunk(out, start);
}

void append_empty_chunk(Bytes& out, ChunkType type, uint8_t flags) {
  const size_t start = append_chunk_header(out, type, flags);
  finish_chunk(out, start);
}

void append_cookie_echo(Bytes& out, ByteSpan cookie) {
  const size_t start = append_chunk_header(out, ChunkType::kCookieEcho, 0);
  ByteWriter(out).bytes(cookie);
  finish_chunk(out, start);
}

void append_shutdown(Bytes& out, uint32_t cumulative_tsn_ack) {
  const size_t start = append_chunk_header(out, ChunkType::kShutdown, 0);
  ByteWriter(out).u32(cumulative_tsn_ack);
  finish_chunk(out, start);
}

}  // namespace strata::sctp
