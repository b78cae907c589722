#include "stun/message.hpp"

#include <gtest/gtest.h>

#include <random>

#include "stun/builder.hpp"
#include "stun/crc32.hpp"
#include "rfc5769_vectors.hpp"

namespace strata::stun {
namespace {

using namespace strata::stun::testing;

std::string_view as_text(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

TEST(Crc32, KnownCheckValue) {
  // The standard CRC-32 check value for "123456789".
  const std::string_view s = "123456789";
  EXPECT_EQ(crc32(ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size())), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
}

TEST(MessageType, EncodeDecodeRoundTrip) {
  struct Case { MessageClass cls; uint16_t method; uint16_t wire; };
  const Case cases[] = {
      {MessageClass::kRequest, kMethodBinding, 0x0001},
      {MessageClass::kIndication, kMethodBinding, 0x0011},
      {MessageClass::kSuccessResponse, kMethodBinding, 0x0101},
      {MessageClass::kErrorResponse, kMethodBinding, 0x0111},
      {MessageClass::kRequest, 0x0FFF, 0x3EEF},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(encode_message_type(c.cls, c.method), c.wire);
    EXPECT_EQ(decode_message_class(c.wire), c.cls);
    EXPECT_EQ(decode_message_method(c.wire), c.method);
  }
}

TEST(Rfc5769, SampleRequest) {
  Bytes raw = rfc5769_request();
  auto m = Message::parse(raw);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_binding_request());
  EXPECT_EQ(to_hex(m->transaction_id()), kRfc5769TransactionId);
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(as_text(*m->attribute(attr::kSoftware)), "STUN test client");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->ice_controlled(), 0x932ff9b151263b36ULL);
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->use_candidate());
  EXPECT_EQ(m->fingerprint(), 0xe57a3bcfu);
  ASSERT_TRUE(m->message_integrity());
  EXPECT_EQ(m->message_integrity()->size(), 20u);
  EXPECT_TRUE(m->verify_message_integrity(kRfc5769Password));
  EXPECT_FALSE(m->verify_message_integrity("wrong"));
  EXPECT_TRUE(m->verify_fingerprint());
  EXPECT_TRUE(verify_message_integrity(raw, kRfc5769Password));
  EXPECT_TRUE(verify_fingerprint(raw));
  EXPECT_TRUE(looks_like_stun(raw));
  EXPECT_EQ(peek_username(raw), "evtj:h6vY");
}

struct ResponseVector {
  const char* name;
  Bytes (*bytes)();
  const char* address;
};

class Rfc5769Response : public ::testing::TestWithParam<ResponseVector> {};

TEST_P(Rfc5769Response, ParsesVerifiesAndDecodesAddress) {
  Bytes raw = GetParam().bytes();
  auto m = Message::parse(raw);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), MessageClass::kSuccessResponse);
  EXPECT_EQ(m->method(), kMethodBinding);
  EXPECT_EQ(to_hex(m->transaction_id()), kRfc5769TransactionId);
  EXPECT_EQ(as_text(*m->attribute(attr::kSoftware)), "test vector");
  auto addr = m->xor_mapped_address();
  ASSERT_TRUE(addr);
  EXPECT_EQ(*addr, *SocketAddress::parse(GetParam().address));
  EXPECT_TRUE(verify_message_integrity(raw, kRfc5769Password));
  EXPECT_TRUE(verify_fingerprint(raw));
  EXPECT_FALSE(m->username());
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, Rfc5769Response,
    ::testing::Values(ResponseVector{"ipv4", rfc5769_ipv4_response, "192.0.2.1:32853"},
                      ResponseVector{"ipv6", rfc5769_ipv6_response,
                                     "[2001:db8:1234:5678:11:2233:4455:6677]:32853"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Rfc5769, AnyFlippedBitBreaksIntegrityOrFingerprint) {
  const Bytes original = rfc5769_request();
  const size_t mi_value_end = original.size() - 8;  // FINGERPRINT is the last 8 bytes
  for (size_t i = 0; i < original.size(); ++i) {
    Bytes raw = original;
    raw[i] ^= 0x01;
    auto m = Message::parse(raw);
    if (!m) continue;  // header damage: rejected outright, which is also fine
    EXPECT_FALSE(m->verify_fingerprint()) << "byte " << i;
    if (i < mi_value_end) {
      EXPECT_FALSE(m->verify_message_integrity(kRfc5769Password)) << "byte " << i;
    }
  }
}

// Each case damages the sample request in one way the parser must reject.
struct MalformedCase {
  const char* name;
  void (*damage)(Bytes&);
};

const MalformedCase kMalformed[] = {
    {"top_bits_set", [](Bytes& b) { b[0] |= 0x80; }},
    {"second_top_bit_set", [](Bytes& b) { b[0] |= 0x40; }},
    {"bad_cookie", [](Bytes& b) { b[4] ^= 0xFF; }},
    {"length_not_multiple_of_4", [](Bytes& b) { store_be16(&b[2], uint16_t(load_be16(&b[2]) - 1)); }},
    {"length_too_long", [](Bytes& b) { store_be16(&b[2], uint16_t(load_be16(&b[2]) + 4)); }},
    {"length_too_short", [](Bytes& b) { store_be16(&b[2], uint16_t(load_be16(&b[2]) - 4)); }},
    {"trailing_bytes", [](Bytes& b) { b.insert(b.end(), {0, 0, 0, 0}); }},
    {"attribute_overruns", [](Bytes& b) { store_be16(&b[22], 0x0100); }},  // SOFTWARE length
    {"attr_after_fingerprint",
     [](Bytes& b) {
       b.insert(b.end(), {0x80, 0x22, 0x00, 0x00});
       store_be16(&b[2], uint16_t(b.size() - kHeaderSize));
     }},
    {"integrity_wrong_length",
     [](Bytes& b) {
       // Turn the 4-byte PRIORITY (offset 40) into a 4-byte MESSAGE-INTEGRITY.
       store_be16(&b[40], attr::kMessageIntegrity);
     }},
    // ICE-CONTROLLED (offset 48, 8 bytes) relabelled as FINGERPRINT.
    {"fingerprint_wrong_length", [](Bytes& b) { store_be16(&b[48], attr::kFingerprint); }},
    {"too_short_for_header", [](Bytes& b) { b.resize(19); }},
    {"empty", [](Bytes& b) { b.clear(); }},
};

class MalformedMessage : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedMessage, Rejected) {
  Bytes raw = rfc5769_request();
  GetParam().damage(raw);
  EXPECT_FALSE(Message::parse(raw));
  EXPECT_FALSE(verify_message_integrity(raw, kRfc5769Password));
  EXPECT_FALSE(verify_fingerprint(raw));
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedMessage, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Message, EveryTruncationIsRejectedSafely) {
  const Bytes original = rfc5769_request();
  for (size_t n = 0; n < original.size(); ++n) {
    Bytes raw(original.begin(), original.begin() + long(n));
    EXPECT_FALSE(Message::parse(raw)) << n;
    EXPECT_FALSE(looks_like_stun(raw)) << n;
    EXPECT_FALSE(peek_username(raw)) << n;
  }
}

TEST(Message, TruncationWithFixedUpLengthStillBoundsChecked) {
  // Cut the message at every 4-byte boundary and make the header length agree, so the
  // header check passes and the attribute walk has to catch the damage.
  const Bytes original = rfc5769_request();
  for (size_t n = kHeaderSize; n < original.size(); n += 4) {
    Bytes raw(original.begin(), original.begin() + long(n));
    store_be16(&raw[2], uint16_t(n - kHeaderSize));
    auto m = Message::parse(raw);
    if (m) {
      (void)m->username();
      (void)m->xor_mapped_address();
      (void)m->error_code();
      EXPECT_FALSE(m->verify_fingerprint());
    }
    (void)peek_username(raw);
  }
}

TEST(Message, RandomGarbageNeverCrashes) {
  std::mt19937 rng(1234);
  size_t parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes raw(rng() % 120);
    for (auto& b : raw) b = uint8_t(rng());
    // Make a good share of inputs pass the header checks so the attribute walk is exercised.
    if (raw.size() >= kHeaderSize && iter % 2 == 0) {
      raw.resize(raw.size() & ~size_t(3));
      raw[0] &= 0x3F;
      store_be16(&raw[2], uint16_t(raw.size() - kHeaderSize));
      store_be32(&raw[4], kMagicCookie);
    }
    auto m = Message::parse(raw);
    if (m) {
      ++parsed;
      if (auto u = m->username()) {
        EXPECT_GE(reinterpret_cast<const uint8_t*>(u->data()), raw.data());
        EXPECT_LE(reinterpret_cast<const uint8_t*>(u->data() + u->size()), raw.data() + raw.size());
      }
      (void)m->priority();
      (void)m->ice_controlling();
      (void)m->ice_controlled();
      (void)m->xor_mapped_address();
      (void)m->error_code();
      // Random bytes never carry a valid HMAC-SHA1 (RFC 8489 §14.5) or CRC-32 (§14.7).
      EXPECT_FALSE(m->verify_message_integrity("key"));
      EXPECT_FALSE(m->verify_fingerprint());
    }
    (void)looks_like_stun(raw);
    (void)peek_username(raw);
  }
  // The biased half must reach the attribute walk, or this test exercises nothing.
  EXPECT_GT(parsed, 100u);
}

TEST(Message, AttributesAfterIntegrityAreIgnoredExceptFingerprint) {
  // Header + MI (zeros) + USERNAME after it: USERNAME must not be visible via attribute().
  Bytes raw = from_hex("0001 0020 2112a442 000000000000000000000000");
  raw.insert(raw.end(), {0x00, 0x08, 0x00, 0x14});
  raw.insert(raw.end(), 20, 0);
  raw.insert(raw.end(), {0x00, 0x06, 0x00, 0x01, 'a', 0, 0, 0});
  auto m = Message::parse(raw);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->username());
  EXPECT_TRUE(m->message_integrity());
  // The fast demux helper does not apply the rule; it is only a routing hint.
  EXPECT_EQ(peek_username(raw), "a");
}

TEST(Message, DuplicateAttributeFirstWins) {
  Bytes raw = from_hex("0001 0018 2112a442 000000000000000000000000"
                       "0024 0004 00000001 0024 0004 00000002 0025 0000 0000 0000");
  auto m = Message::parse(raw);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->priority(), 1u);
  EXPECT_TRUE(m->use_candidate());
}

TEST(Message, WrongSizedTypedAttributesYieldNullopt) {
  Bytes raw = from_hex("0001 0020 2112a442 000000000000000000000000"
                       "0024 0002 0001 0000"           // PRIORITY of 2 bytes
                       "802a 0004 00000001"            // ICE-CONTROLLING of 4 bytes
                       "0020 0008 0003 0000 00000000"  // XOR-MAPPED-ADDRESS, bad family
                       "0009 0000");                   // ERROR-CODE, empty
  auto m = Message::parse(raw);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->priority());
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->xor_mapped_address());
  EXPECT_FALSE(m->error_code());
  EXPECT_FALSE(m->verify_message_integrity(""));
  EXPECT_FALSE(m->verify_fingerprint());
}

TEST(LooksLikeStun, RejectsOtherDemuxClasses) {
  Bytes stun = rfc5769_request();
  EXPECT_TRUE(looks_like_stun(stun));
  Bytes dtls = stun;
  dtls[0] = 22;  // DTLS handshake content type (RFC 7983 range 20..63)
  EXPECT_FALSE(looks_like_stun(dtls));
  Bytes rtp = stun;
  rtp[0] = 0x80;  // RTP version 2
  EXPECT_FALSE(looks_like_stun(rtp));
}

// The worker routes responses by address, whatever USERNAME they carry (libnice's do).
TEST(Message, PeekIsResponseReadsTheClassBits) {
  const TransactionId tid{};
  EXPECT_FALSE(peek_is_response(MessageBuilder::binding_request(tid).add_username("a:b").finish("k")));
  EXPECT_FALSE(peek_is_response(MessageBuilder(MessageClass::kIndication, kMethodBinding, tid).finish(std::nullopt)));
  EXPECT_TRUE(peek_is_response(MessageBuilder::binding_success(tid).add_username("peer:us").finish("k")));
  EXPECT_TRUE(peek_is_response(MessageBuilder::binding_error(tid).add_error_code(487, "Role Conflict").finish("k")));
  EXPECT_FALSE(peek_is_response(Bytes{0x01, 0x01, 0x00, 0x00})) << "no valid header";
}

}  // namespace
}  // namespace strata::stun
