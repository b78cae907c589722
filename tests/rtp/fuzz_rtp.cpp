// libFuzzer entry: parses arbitrary bytes as RTP (with every accessor, extension reader
// and in-place rewrite) and as an RTCP compound (with every sub-packet parser).
// Also linked into the unit tests, which replay tests/data/fuzz/rtp/ through it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "rtp/header_extensions.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/rtcp_feedback.hpp"
#include "rtp/rtcp_transport_cc.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtx.hpp"

namespace {

using namespace strata;
using namespace strata::rtp;

volatile size_t g_sink = 0;  // keeps the reads from being optimized away

void exercise_rtp(std::vector<uint8_t>& buf) {
  auto p = RtpPacket::parse(buf.data(), buf.size());
  if (!p) return;
  size_t sum = p->version() + p->payload_type() + p->sequence() + p->timestamp() + p->ssrc() +
               p->marker() + p->padding_size() + p->header_size() + p->csrc(0) + p->csrc(20);
  for (uint8_t b : p->payload()) sum += b;
  for (int id = 0; id < 256; ++id) {
    if (auto e = p->extension(uint8_t(id))) sum += e->size();
  }
  if (auto m = read_mid(*p, 1)) sum += m->size();
  if (auto r = read_rid(*p, 2)) sum += r->size();
  if (auto t = read_abs_send_time(*p, 3)) sum += *t;
  if (auto t = read_transport_cc_seq(*p, 4)) sum += *t;
  if (auto a = read_audio_level(*p, 5)) sum += a->level;
  write_transport_cc_seq(*p, 4, 7);
  p->set_sequence(1);
  p->set_timestamp(2);
  p->set_marker(true);
  std::vector<uint8_t> rtx(buf.size() + 2);
  size_t n = write_rtx(*p, 97, 1234, 9, rtx.data(), rtx.size());
  if (n > 0) {
    auto r = RtpPacket::parse(rtx.data(), n);
    if (r) {
      if (auto back = restore_from_rtx(*r, 96, 42)) sum += back->size();
    }
  }
  if (auto back = restore_from_rtx(*p, 96, 42)) sum += back->size();
  g_sink = g_sink + sum;
}

void exercise_rtcp(const uint8_t* data, size_t size) {
  RtcpIterator it(ByteSpan(data, size));
  size_t sum = 0;
  while (auto v = it.next()) {
    if (auto sr = parse_sender_report(*v)) sum += sr->blocks.size();
    if (auto rr = parse_receiver_report(*v)) sum += rr->blocks.size();
    if (auto sdes = parse_sdes(*v)) sum += sdes->chunks.size();
    if (auto bye = parse_bye(*v)) sum += bye->ssrcs.size();
    if (auto nack = parse_nack(*v)) sum += expand_nack_items(nack->items).size();
    if (auto pli = parse_pli(*v)) sum += pli->media_ssrc;
    if (auto fir = parse_fir(*v)) sum += fir->entries.size();
    if (auto remb = parse_remb(*v)) sum += remb->ssrcs.size();
    if (auto fb = parse_transport_feedback(*v)) sum += fb->packets.size();
  }
  sum += is_valid_compound(ByteSpan(data, size));
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Exact-size heap copy so sanitizers catch any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const strata::ByteSpan span(buf.data(), buf.size());
  g_sink = g_sink + strata::rtp::looks_like_rtcp(span) + strata::rtp::is_rtp_or_rtcp(span);
  exercise_rtcp(buf.data(), buf.size());  // read-only, so run it before the RTP rewrites
  exercise_rtp(buf);
  return 0;
}
