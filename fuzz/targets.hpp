// Bodies of the libFuzzer targets, one per protocol parser (project rule: protocol parsers
// get fuzz targets whose corpora replay as tests). Each <name>_fuzz.cpp only forwards
// LLVMFuzzerTestOneInput to <name>_one_input, so the replay test (tests/fuzz_replay) can
// link every body into one binary without duplicate LLVMFuzzerTestOneInput symbols.
//
// Contract shared by all targets: never crash, never read out of bounds, always return 0.
// A broken invariant (e.g. an answer that does not re-parse) calls fuzz_check_failed(),
// which aborts, so libFuzzer records it as a crash and the replay test fails loudly.
#pragma once
#include <cstddef>
#include <cstdint>

namespace strata::fuzz {

// stun::Message::parse + accessors, verify_message_integrity, verify_fingerprint,
// peek_username, and ice::IceLiteAgent::handle_binding on the bytes.
int stun_one_input(const uint8_t* data, size_t size);
// sdp::parse, serialize, and sdp::create_answer in both AnswerModes on what parses.
int sdp_one_input(const uint8_t* data, size_t size);
// srtp::SrtpSession unprotect_rtp/unprotect_rtcp with fixed keys, both profiles, plus a
// protect -> unprotect round trip of the bytes taken as plaintext.
int srtp_one_input(const uint8_t* data, size_t size);
// dtls::DtlsTransport (server role) handle_datagram, and pack_records_into_datagrams.
int dtls_one_input(const uint8_t* data, size_t size);
// codecs::parse_vp9 + rewrite_vp9_picture_id on the bytes, and a PictureIdRewriter fed
// the bytes as a stream of [control][length][payload] packets.
int vp9_one_input(const uint8_t* data, size_t size);
// rtp::RtpPacket::parse with every header-extension reader (one- and two-byte forms), the
// in-place rewrites, an RtpPacketBuilder rebuild and RTX both ways; the codec payload
// readers of sfu::packet_facts (VP8, VP9, H.264, AV1) and the VP8 PictureID rewrite; the
// RTCP compound iterator with every sub-packet parser (SR, RR, SDES, BYE, NACK, PLI, FIR,
// REMB, transport-cc), each checked by a build -> parse round trip.
int rtp_one_input(const uint8_t* data, size_t size);
// A sans-IO publisher + viewer session: records of host RTP (sfu::Producer, RTX restore,
// transport-cc feedback), host RTCP, viewer RTCP (DownlinkController, NACK retransmission,
// PLI/FIR) and clock ticks; see sfu_target.cpp for the record format.
int sfu_one_input(const uint8_t* data, size_t size);
// Access tokens, tickets, grants, the access decision and the JWK Set loader on the bytes
// (fixed test keys; seeds signed by them come from fuzz/jwt_seeds.mjs).
int jwt_one_input(const uint8_t* data, size_t size);
// The HTTP API's JSON bodies (signaling/api_bodies.hpp) and the registry's JSON records.
int api_json_one_input(const uint8_t* data, size_t size);
// Data Channel Establishment Protocol messages (datachannel/dcep.hpp): OPEN and ACK, and the
// UTF-8 check their labels pass.
int dcep_one_input(const uint8_t* data, size_t size);
// SCTP packets (sctp/packet.hpp, sctp/chunks.hpp) with the checksum stamped by the target:
// every chunk parser, rebuild-and-reparse of what parses, DCEP on PPID 50.
int sctp_one_input(const uint8_t* data, size_t size);

// Aborts with a message naming the target and the broken invariant.
[[noreturn]] void fuzz_check_failed(const char* target, const char* what);

}  // namespace strata::fuzz

#define STRATA_FUZZ_CHECK(target, cond) \
  do {                                  \
    if (!(cond)) ::strata::fuzz::fuzz_check_failed(target, #cond); \
  } while (0)
