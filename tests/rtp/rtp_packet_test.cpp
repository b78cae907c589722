#include "rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <random>

#include "rtp/header_extensions.hpp"
#include "rtp/rtp_packet_builder.hpp"
#include "rtp/rtx.hpp"

namespace strata::rtp {
namespace {

// Chrome-style video packet, one-byte extensions (RFC 8285 §4.2): abs-send-time id 2,
// transport-cc id 3, mid id 4 ("0"), rid id 10 ("h"), one padding byte to 32 bits.
constexpr std::string_view kChromeVideo =
    "90601234 11223344 deadbeef"
    "bede0003 22123456 31002a40 30a06800"
    "aabbccdd";

// Two-byte extensions (RFC 8285 §4.3): id 1 audio level (V=1, 5 dBov), id 16 empty,
// id 20 "hello".
constexpr std::string_view kTwoByte =
    "906f0001 00000010 01020304"
    "10000003 01018510 00140568 656c6c6f"
    "0102";

// RTX (RFC 4588 §4) for PT 97 / SSRC cafebabe carrying OSN 0x1234.
constexpr std::string_view kRtx = "80610005 00000bb8 cafebabe 1234 aabbccdd";

constexpr HeaderExtensionIds kChromeIds{.mid = 4, .rid = 10, .repaired_rid = 11,
                                        .abs_send_time = 2, .transport_cc = 3, .audio_level = 1};

TEST(RtpPacket, ParsesChromeStyleOneByteExtensions) {
  Bytes buf = from_hex(kChromeVideo);
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version(), 2);
  EXPECT_FALSE(p->has_padding());
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->sequence(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0x11223344u);
  EXPECT_EQ(p->ssrc(), 0xdeadbeefu);
  EXPECT_EQ(p->csrc_count(), 0);
  EXPECT_EQ(p->header_size(), 28u);
  EXPECT_EQ(p->extension_profile(), kOneByteExtensionProfile);
  EXPECT_EQ(p->extension_count(), 4u);
  EXPECT_EQ(to_hex(p->payload()), "aabbccdd");
  EXPECT_EQ(read_abs_send_time(*p, kChromeIds.abs_send_time), 0x123456u);
  EXPECT_EQ(read_transport_cc_seq(*p, kChromeIds.transport_cc), 42);
  EXPECT_EQ(read_mid(*p, kChromeIds.mid), "0");
  EXPECT_EQ(read_rid(*p, kChromeIds.rid), "h");
  EXPECT_FALSE(read_repaired_rid(*p, kChromeIds.repaired_rid));
  EXPECT_FALSE(read_audio_level(*p, kChromeIds.audio_level));
  EXPECT_FALSE(p->extension(0));
}

TEST(RtpPacket, ParsesTwoByteExtensions) {
  Bytes buf = from_hex(kTwoByte);
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->uses_two_byte_extensions());
  EXPECT_EQ(p->extension_count(), 3u);
  auto level = read_audio_level(*p, 1);
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level, 5);
  auto empty = p->extension(16);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(read_mid(*p, 20), "hello");
  EXPECT_EQ(to_hex(p->payload()), "0102");
}

TEST(RtpPacket, SettersRewriteTheBuffer) {
  Bytes buf = from_hex(kChromeVideo);
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  p->set_sequence(0xfffe);
  p->set_timestamp(0xa0b0c0d0);
  p->set_ssrc(0x01020304);
  p->set_payload_type(111);
  p->set_marker(true);
  EXPECT_TRUE(write_transport_cc_seq(*p, 3, 0xbeef));
  EXPECT_TRUE(write_abs_send_time(*p, 2, 0xabcdef));
  EXPECT_EQ(to_hex(ByteSpan(buf).first(12)), "90effffea0b0c0d001020304");
  auto again = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->marker());
  EXPECT_EQ(again->payload_type(), 111);
  EXPECT_EQ(again->sequence(), 0xfffe);
  EXPECT_EQ(read_transport_cc_seq(*again, 3), 0xbeef);
  EXPECT_EQ(read_abs_send_time(*again, 2), 0xabcdefu);
  p->set_marker(false);
  EXPECT_EQ(buf[1], 111);
}

TEST(RtpPacket, SetExtensionValueRequiresSameSize) {
  Bytes buf = from_hex(kChromeVideo);
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  const uint8_t one[] = {'1'};
  const uint8_t two[] = {'1', '2'};
  EXPECT_TRUE(p->set_extension_value(4, one));
  EXPECT_FALSE(p->set_extension_value(4, two));
  EXPECT_FALSE(p->set_extension_value(9, one));
  EXPECT_EQ(read_mid(*p, 4), "1");
}

TEST(RtpPacket, PaddingIsExcludedFromPayload) {
  const uint8_t payload[] = {1, 2, 3};
  Bytes buf = RtpPacketBuilder().payload_type(96).sequence(7).payload(payload).padding(5).build();
  ASSERT_EQ(buf.size(), 12u + 3 + 5);
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->has_padding());
  EXPECT_EQ(p->padding_size(), 5u);
  EXPECT_EQ(to_hex(p->payload()), "010203");
}

struct BadPaddingCase {
  const char* name;
  std::string_view hex;
};

TEST(RtpPacket, RejectsMalformedHeaders) {
  const BadPaddingCase cases[] = {
      {"zero padding count", "a0600001 00000000 00000001 aa00"},
      {"padding beyond payload", "a0600001 00000000 00000001 aa05"},
      {"version 1", "40600001 00000000 00000001"},
      {"csrc list truncated", "82600001 00000000 00000001 00000002"},
      {"extension header truncated", "90600001 00000000 00000001 bede"},
      {"extension block truncated", "90600001 00000000 00000001 bede0002 22123456"},
      {"too short", "806000010000"},
  };
  for (const auto& c : cases) {
    Bytes buf = from_hex(c.hex);
    EXPECT_FALSE(RtpPacket::parse(buf.data(), buf.size())) << c.name;
  }
}

TEST(RtpPacket, PaddingCanConsumeWholePayload) {
  Bytes buf = from_hex("a0600001 00000000 00000001 00000004");
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_size(), 0u);
  EXPECT_EQ(p->padding_size(), 4u);
}

TEST(RtpPacket, ExtensionWalkStopsAtReservedIdAndTruncatedElements) {
  // id 15 stops the walk (RFC 8285 §4.2); id 1 before it is kept.
  Bytes reserved = from_hex("90600001 00000000 00000001 bede0001 10aaf0bb");
  auto p = RtpPacket::parse(reserved.data(), reserved.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_count(), 1u);
  // Element length 4 overruns the 4-byte block: ignored, packet still valid.
  Bytes overrun = from_hex("90600001 00000000 00000001 bede0001 23aabbcc");
  p = RtpPacket::parse(overrun.data(), overrun.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_count(), 0u);
  // Unknown profile: the block is opaque.
  Bytes opaque = from_hex("90600001 00000000 00000001 abcd0001 10aa0000 ff");
  p = RtpPacket::parse(opaque.data(), opaque.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_count(), 0u);
  EXPECT_EQ(p->payload_size(), 1u);
}

TEST(RtpPacket, CsrcsAreReadable) {
  Bytes buf = RtpPacketBuilder().csrc(11).csrc(22).ssrc(5).build();
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->csrc_count(), 2);
  EXPECT_EQ(p->csrc(0), 11u);
  EXPECT_EQ(p->csrc(1), 22u);
  EXPECT_EQ(p->csrc(2), 0u);
  EXPECT_EQ(p->header_size(), 20u);
}

TEST(RtpPacketBuilder, ReproducesChromeFixture) {
  const uint8_t abs[] = {0x12, 0x34, 0x56};
  const uint8_t twcc[] = {0x00, 0x2a};
  const uint8_t payload[] = {0xaa, 0xbb, 0xcc, 0xdd};
  Bytes buf = RtpPacketBuilder()
                  .payload_type(96).sequence(0x1234).timestamp(0x11223344).ssrc(0xdeadbeef)
                  .extension(2, abs).extension(3, twcc).extension(4, std::string_view("0"))
                  .extension(10, std::string_view("h")).payload(payload).build();
  EXPECT_EQ(to_hex(buf), to_hex(from_hex(kChromeVideo)));
}

TEST(RtpPacketBuilder, ChoosesTwoByteFormWhenNeeded) {
  const uint8_t level[] = {0x85};
  const uint8_t payload[] = {1, 2};
  RtpPacketBuilder b;
  b.payload_type(111).sequence(1).timestamp(16).ssrc(0x01020304).extension(1, level)
      .extension(16, ByteSpan()).extension(20, std::string_view("hello")).payload(payload);
  EXPECT_TRUE(b.uses_two_byte_extensions());
  EXPECT_EQ(to_hex(b.build()), to_hex(from_hex(kTwoByte)));
}

TEST(RtpPacketBuilder, WriteFailsWhenCapacityTooSmallOrInvalid) {
  RtpPacketBuilder b;
  b.ssrc(1);
  uint8_t out[11];
  EXPECT_EQ(b.write(out, sizeof(out)), 0u);
  uint8_t big[12];
  EXPECT_EQ(b.write(big, sizeof(big)), 12u);
  b.extension(0, std::string_view("x"));
  EXPECT_TRUE(b.error());
  EXPECT_EQ(b.write(big, sizeof(big)), 0u);
  RtpPacketBuilder too_many_csrcs;
  for (int i = 0; i < 16; ++i) too_many_csrcs.csrc(uint32_t(i));
  EXPECT_TRUE(too_many_csrcs.error());
  EXPECT_TRUE(too_many_csrcs.build().empty());
}

TEST(RtpPacketBuilder, RoundTripsManyShapes) {
  for (int csrcs = 0; csrcs <= 3; ++csrcs) {
    for (int pad : {0, 1, 7}) {
      for (bool two_byte : {false, true}) {
        const uint8_t value[] = {9, 8, 7};
        const uint8_t payload[] = {5, 5, 5, 5, 5};
        RtpPacketBuilder b;
        b.payload_type(100).marker(true).sequence(65535).timestamp(1).ssrc(2)
            .extension(5, value).two_byte_extensions(two_byte).payload(payload).padding(uint8_t(pad));
        for (int i = 0; i < csrcs; ++i) b.csrc(uint32_t(i + 100));
        Bytes buf = b.build();
        auto p = RtpPacket::parse(buf.data(), buf.size());
        ASSERT_TRUE(p) << csrcs << " " << pad << " " << two_byte;
        EXPECT_TRUE(p->marker());
        EXPECT_EQ(p->sequence(), 65535);
        EXPECT_EQ(p->csrc_count(), csrcs);
        EXPECT_EQ(p->padding_size(), size_t(pad));
        EXPECT_EQ(p->uses_two_byte_extensions(), two_byte);
        EXPECT_EQ(to_hex(*p->extension(5)), "090807");
        EXPECT_EQ(to_hex(p->payload()), "0505050505");
      }
    }
  }
}

TEST(Rtx, ParsesFixtureAndRestoresInPlace) {
  Bytes buf = from_hex(kRtx);
  auto rtx = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx_original_sequence(*rtx), 0x1234);
  auto original = restore_from_rtx(*rtx, 96, 0x11111111);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->sequence(), 0x1234);
  EXPECT_EQ(original->ssrc(), 0x11111111u);
  EXPECT_EQ(original->payload_type(), 96);
  EXPECT_EQ(original->timestamp(), 0xbb8u);
  EXPECT_EQ(to_hex(original->payload()), "aabbccdd");
  EXPECT_EQ(original->size(), buf.size() - 2);
}

TEST(Rtx, WriteThenRestoreKeepsHeaderAndExtensions) {
  Bytes orig_buf = from_hex(kChromeVideo);
  orig_buf[1] |= 0x80;  // marker
  auto orig = RtpPacket::parse(orig_buf.data(), orig_buf.size());
  ASSERT_TRUE(orig);
  uint8_t out[1500];
  size_t n = write_rtx(*orig, 97, 0xcafebabe, 5, out, sizeof(out));
  ASSERT_EQ(n, orig_buf.size() + 2);
  auto rtx = RtpPacket::parse(out, n);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->payload_type(), 97);
  EXPECT_TRUE(rtx->marker());
  EXPECT_EQ(rtx->ssrc(), 0xcafebabeu);
  EXPECT_EQ(rtx->sequence(), 5);
  EXPECT_EQ(rtx_original_sequence(*rtx), 0x1234);
  EXPECT_EQ(read_mid(*rtx, 4), "0");
  auto back = restore_from_rtx(*rtx, 96, 0xdeadbeef);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_hex(back->bytes()), to_hex(orig_buf));
  EXPECT_EQ(write_rtx(*orig, 97, 1, 1, out, orig_buf.size() + 1), 0u);
}

TEST(Rtx, DropsOriginalPaddingAndRestoresPaddedRtx) {
  const uint8_t payload[] = {1, 2, 3};
  Bytes padded = RtpPacketBuilder().payload_type(96).sequence(9).payload(payload).padding(4).build();
  auto orig = RtpPacket::parse(padded.data(), padded.size());
  uint8_t out[64];
  size_t n = write_rtx(*orig, 97, 2, 3, out, sizeof(out));
  auto rtx = RtpPacket::parse(out, n);
  ASSERT_TRUE(rtx);
  EXPECT_FALSE(rtx->has_padding());
  EXPECT_EQ(to_hex(rtx->payload()), "0009010203");

  // A padded RTX packet keeps its padding after restoration.
  const uint8_t rtx_payload[] = {0, 9, 1, 2, 3};
  Bytes padded_rtx = RtpPacketBuilder().payload_type(97).payload(rtx_payload).padding(3).build();
  auto r = RtpPacket::parse(padded_rtx.data(), padded_rtx.size());
  auto back = restore_from_rtx(*r, 96, 1);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sequence(), 9);
  EXPECT_EQ(back->padding_size(), 3u);
  EXPECT_EQ(to_hex(back->payload()), "010203");
}

TEST(Rtx, PaddingOnlyRtxHasNoOriginal) {
  Bytes buf = from_hex("a0610001 00000000 00000001 00000004");
  auto p = RtpPacket::parse(buf.data(), buf.size());
  ASSERT_TRUE(p);
  EXPECT_FALSE(rtx_original_sequence(*p));
  EXPECT_FALSE(restore_from_rtx(*p, 96, 1));
}

TEST(HeaderExtensionIds, AssignsStandardUris) {
  HeaderExtensionIds ids;
  EXPECT_TRUE(assign_extension_id(ids, uri::kMid, 4));
  EXPECT_TRUE(assign_extension_id(ids, uri::kRid, 10));
  EXPECT_TRUE(assign_extension_id(ids, uri::kRepairedRid, 11));
  EXPECT_TRUE(assign_extension_id(ids, uri::kAbsSendTime, 2));
  EXPECT_TRUE(assign_extension_id(ids, uri::kTransportCc, 3));
  EXPECT_TRUE(assign_extension_id(ids, uri::kAudioLevel, 1));
  EXPECT_FALSE(assign_extension_id(ids, "urn:ietf:params:rtp-hdrext:toffset", 5));
  EXPECT_EQ(ids.mid, 4);
  EXPECT_EQ(ids.transport_cc, 3);
  EXPECT_EQ(abs_send_time_from_ntp(uint64_t(1) << 32), 1u << 18);  // 1 s in 6.18
}

struct DemuxCase {
  std::string_view hex;
  bool rtp_or_rtcp;
  bool rtcp;
};

TEST(Demux, ClassifiesFirstBytes) {
  const DemuxCase cases[] = {
      {"8060", true, false},  // RTP PT 96
      {"80e0", true, false},  // RTP PT 96 + marker
      {"80c8", true, true},   // SR
      {"81cd", true, true},   // RTPFB
      {"80df", true, true},   // 223, top of the RFC 5761 range
      {"80bf", true, false},  // 191: RTP PT 63 + marker
      {"0001", false, false}, // STUN
      {"1603", false, false}, // DTLS
      {"80", true, false},
      {"", false, false},
  };
  for (const auto& c : cases) {
    Bytes b = from_hex(c.hex);
    EXPECT_EQ(is_rtp_or_rtcp(b), c.rtp_or_rtcp) << c.hex;
    EXPECT_EQ(looks_like_rtcp(b), c.rtcp) << c.hex;
  }
}

TEST(RtpPacket, EveryTruncationOfFixturesIsSafe) {
  for (auto hex : {kChromeVideo, kTwoByte, kRtx}) {
    const Bytes full = from_hex(hex);
    for (size_t len = 0; len <= full.size(); ++len) {
      Bytes buf(full.begin(), full.begin() + len);  // exact size so ASan sees overreads
      auto p = RtpPacket::parse(buf.data(), buf.size());
      if (len < 12) {
        EXPECT_FALSE(p);
      }
      if (p) {
        EXPECT_LE(p->header_size() + p->padding_size(), len);
      }
    }
  }
}

TEST(RtpPacket, RandomBytesNeverCrash) {
  std::mt19937 rng(1234);
  size_t parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes buf(rng() % 80);
    for (auto& b : buf) b = uint8_t(rng());
    if (!buf.empty() && (i & 1)) buf[0] = uint8_t(0x80 | (buf[0] & 0x3f));  // version 2
    if (buf.size() > 13 && (i & 2)) { buf[12] = 0xbe; buf[13] = 0xde; }
    auto p = RtpPacket::parse(buf.data(), buf.size());
    if (!p) continue;
    ++parsed;
    EXPECT_LE(p->header_size() + p->padding_size() + p->payload_size(), buf.size());
    for (int id = 0; id < 256; ++id) {
      if (auto e = p->extension(uint8_t(id))) {
        EXPECT_GE(e->data(), buf.data());
        EXPECT_LE(e->data() + e->size(), buf.data() + buf.size());
      }
    }
  }
  EXPECT_GT(parsed, 100u);
}

}  // namespace
}  // namespace strata::rtp
