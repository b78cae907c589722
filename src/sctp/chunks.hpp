// The SCTP chunks a WebRTC data channel uses, parsed from a ChunkView and appended to a packet
// being built (packet.hpp). RFC 9260 §3.3 (DATA, INIT, INIT ACK, SACK, HEARTBEAT, ABORT,
// SHUTDOWN*, ERROR, COOKIE*), RFC 3758 §3.2 (FORWARD TSN), RFC 6525 §3-4 (RE-CONFIG and its
// parameters). Parsers return nullopt for a malformed chunk (the caller counts it); views
// borrow the packet's bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "sctp/packet.hpp"

namespace strata::sctp {

// RFC 9260 §3.3.1 DATA, with RFC 7053's I bit (SACK immediately).
struct DataChunk {
  bool unordered = false;   // U
  bool beginning = false;   // B: the first fragment of a message
  bool ending = false;      // E: the last fragment
  bool immediate = false;   // I (RFC 7053): the receiver should SACK at once
  uint32_t tsn = 0;
  uint16_t stream_id = 0;
  uint16_t ssn = 0;         // stream sequence number (ignored for unordered)
  uint32_t ppid = 0;        // payload protocol identifier, in host order
  ByteSpan user_data;       // at least one byte
};
std::optional<DataChunk> parse_data(const ChunkView& c);
void append_data(Bytes& out, const DataChunk& d);

// Parameters (RFC 9260 §3.2.1): type, length, value, padded to 4 bytes.
enum class ParamType : uint16_t {
  kHeartbeatInfo = 1,
  kStateCookie = 7,
  kUnrecognizedParameter = 8,
  kCookiePreservative = 9,
  kSupportedAddressTypes = 12,
  kOutgoingSsnReset = 13,      // RFC 6525 §4.1
  kIncomingSsnReset = 14,      // §4.2
  kSsnTsnReset = 15,           // §4.3
  kReconfigResponse = 16,      // §4.4
  kAddOutgoingStreams = 17,    // §4.5
  kAddIncomingStreams = 18,    // §4.6
  kEcnCapable = 0x8000,
  kZeroChecksumAcceptable = 0x8001,  // RFC 9653
  kRandom = 0x8002,                  // RFC 4895 (AUTH)
  kChunkList = 0x8003,
  kHmacAlgorithm = 0x8004,
  kSupportedExtensions = 0x8008,     // RFC 5061 §4.2.7
  kForwardTsnSupported = 0xC000,     // RFC 3758 §3.1
};

struct ParamView {
  uint16_t type = 0;
  ByteSpan value;
  bool is(ParamType t) const { return type == uint16_t(t); }
};

// Walks the parameters of a chunk's variable part. next() returns nullopt at the end or at a
// malformed parameter (length under 4 or past the end); malformed() tells which.
class ParamIterator {
 public:
  explicit ParamIterator(ByteSpan params) : data_(params) {}
  std::optional<ParamView> next();
  bool malformed() const { return malformed_; }

 private:
  ByteSpan data_;
  size_t offset_ = 0;
  bool malformed_ = false;
};
void append_param(Bytes& out, ParamType type, ByteSpan value);

// RFC 9260 §3.3.2 INIT and §3.3.3 INIT ACK (the same fixed part), with the parameters a
// data channel peer acts on. Unknown parameters follow their type's two high bits
// (§3.2.1): 00 stop processing the rest of the chunk, 01 stop and report, 10 skip,
// 11 skip and report; those to report are kept for an ERROR or INIT ACK "Unrecognized
// Parameter" cause.
struct InitChunk {
  uint32_t initiate_tag = 0;       // never 0 (§3.3.2)
  uint32_t a_rwnd = 0;
  uint16_t outbound_streams = 0;   // never 0
  uint16_t inbound_streams = 0;    // never 0
  uint32_t initial_tsn = 0;
  ByteSpan state_cookie;           // INIT ACK: required
  bool forward_tsn_supported = false;
  bool zero_checksum_acceptable = false;
  std::vector<uint8_t> supported_extensions;  // chunk types (RFC 5061 §4.2.7)
  std::vector<ByteSpan> unrecognized;         // whole parameters (TLV) to report
  bool supports(ChunkType t) const;
};
std::optional<InitChunk> parse_init(const ChunkView& c);  // INIT or INIT ACK
// Appends an INIT, or an INIT ACK with its state cookie and the peer's parameters to report
// (Unrecognized Parameter, §3.3.3, as many as fit), carrying Forward-TSN-Supported and
// Supported Extensions when `init` has them.
void append_init(Bytes& out, ChunkType type, const InitChunk& init);

// RFC 9260 §3.3.4.
struct GapBlock {
  uint16_t start = 0;  // offsets from the cumulative TSN ack
  uint16_t end = 0;
  bool operator==(const GapBlock&) const = default;
};
struct SackChunk {
  uint32_t cumulative_tsn_ack = 0;
  uint32_t a_rwnd = 0;
  std::vector<GapBlock> gaps;
  std::vector<uint32_t> duplicates;
  bool operator==(const SackChunk&) const = default;
};
std::optional<SackChunk> parse_sack(const ChunkView& c);
// What one SACK chunk holds (its 16-bit length): gap blocks and duplicates together. Past it,
// append_sack leaves out duplicates first, then the last gaps.
inline constexpr size_t kMaxSackEntries = (0xFFFF - 4 - 12) / 4;
void append_sack(Bytes& out, const SackChunk& s);

// RFC 9260 §3.3.5-6: the sender's Heartbeat Info parameter, echoed unchanged.
std::optional<ByteSpan> parse_heartbeat_info(const ChunkView& c);
void append_heartbeat(Bytes& out, ChunkType type, ByteSpan info);  // HEARTBEAT or HEARTBEAT ACK

// RFC 9260 §3.3.10: an error cause.
struct ErrorCause {
  uint16_t code = 0;
  ByteSpan info;
};
enum class CauseCode : uint16_t {
  kInvalidStreamIdentifier = 1,
  kMissingMandatoryParameter = 2,
  kStaleCookie = 3,
  kOutOfResource = 4,
  kUnrecognizedChunkType = 6,
  kInvalidMandatoryParameter = 7,
  kUnrecognizedParameters = 8,
  kNoUserData = 9,
  kProtocolViolation = 13,
  kUserInitiatedAbort = 12,
};
// ABORT (§3.3.7) and ERROR (§3.3.10): the causes; nullopt if one is malformed.
std::optional<std::vector<ErrorCause>> parse_causes(const ChunkView& c);
void append_cause(Bytes& out, CauseCode code, ByteSpan info);  // inside a started chunk
// T bit of ABORT and SHUTDOWN COMPLETE (§3.3.7, §3.3.13): the tag is the receiver's own.
inline bool tag_reflected(const ChunkView& c) { return (c.flags & 0x01) != 0; }

// SHUTDOWN (§3.3.8): the cumulative TSN ack.
std::optional<uint32_t> parse_shutdown(const ChunkView& c);

// RFC 3758 §3.2 FORWARD TSN.
struct ForwardTsnStream {
  uint16_t stream_id = 0;
  uint16_t ssn = 0;
  bool operator==(const ForwardTsnStream&) const = default;
};
struct ForwardTsnChunk {
  uint32_t new_cumulative_tsn = 0;
  std::vector<ForwardTsnStream> streams;
  bool operator==(const ForwardTsnChunk&) const = default;
};
std::optional<ForwardTsnChunk> parse_forward_tsn(const ChunkView& c);
void append_forward_tsn(Bytes& out, const ForwardTsnChunk& f);

// RFC 6525 RE-CONFIG: one or two of these parameters (§3.1). Data channels close by resetting
// their streams (RFC 8831 §6.7): an Outgoing SSN Reset Request answered by a Response.
struct OutgoingResetRequest {       // §4.1
  uint32_t request_seq = 0;
  uint32_t response_seq = 0;
  uint32_t sender_last_tsn = 0;
  std::vector<uint16_t> streams;    // empty: every stream
  bool operator==(const OutgoingResetRequest&) const = default;
};
struct IncomingResetRequest {       // §4.2
  uint32_t request_seq = 0;
  std::vector<uint16_t> streams;
  bool operator==(const IncomingResetRequest&) const = default;
};
enum class ReconfigResult : uint32_t {  // §4.4
  kSuccessNothingToDo = 0,
  kSuccessPerformed = 1,
  kDenied = 2,
  kErrorWrongSsn = 3,
  kErrorRequestAlreadyInProgress = 4,
  kErrorBadSequenceNumber = 5,
  kInProgress = 6,
};
struct ReconfigResponse {           // §4.4
  uint32_t response_seq = 0;
  uint32_t result = 0;
  std::optional<uint32_t> sender_next_tsn;    // both or neither
  std::optional<uint32_t> receiver_next_tsn;
  bool operator==(const ReconfigResponse&) const = default;
};
// Any other RE-CONFIG parameter (SSN/TSN reset, add streams): its request sequence number,
// which a receiver answers with kDenied.
struct OtherReconfigRequest {
  uint16_t type = 0;
  uint32_t request_seq = 0;
  bool operator==(const OtherReconfigRequest&) const = default;
};
struct ReconfigChunk {
  std::vector<OutgoingResetRequest> outgoing;
  std::vector<IncomingResetRequest> incoming;
  std::vector<ReconfigResponse> responses;
  std::vector<OtherReconfigRequest> others;
  bool operator==(const ReconfigChunk&) const = default;
};
std::optional<ReconfigChunk> parse_reconfig(const ChunkView& c);
// Appends a RE-CONFIG chunk with the given parameters in the order outgoing, incoming,
// responses (`others` are only ever answered, never sent, so they are not written).
void append_reconfig(Bytes& out, const ReconfigChunk& r);

// Chunks with nothing but a header: COOKIE ACK, SHUTDOWN ACK, SHUTDOWN COMPLETE (flags = T).
void append_empty_chunk(Bytes& out, ChunkType type, uint8_t flags = 0);
// COOKIE ECHO (§3.3.11): the cookie as received in INIT ACK.
void append_cookie_echo(Bytes& out, ByteSpan cookie);
// SHUTDOWN (§3.3.8).
void append_shutdown(Bytes& out, uint32_t cumulative_tsn_ack);

}  // namespace strata::sctp
