// DCEP (RFC 8832) messages: table-driven parse rows, round trips, and the UTF-8 check.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "datachannel/dcep.hpp"

namespace strata::datachannel {
namespace {

// A DATA_CHANNEL_OPEN of the shape a browser sends for createDataChannel("chat"): reliable,
// ordered, priority 256 (W3C "low", the default), label "chat", no protocol.
const char* const kChromiumOpen = "03 00 0100 00000000 0004 0000 63686174";

struct ParseRow {
  const char* name;
  const char* hex;
  bool ok;
  DcepError error = DcepError::kEmpty;
};

const ParseRow kParseRows[] = {
    {"chromium open", kChromiumOpen, true},
    {"ack", "02", true},
    {"empty label and protocol", "03 00 0000 00000000 0000 0000", true},
    {"unordered partial rexmit", "03 81 0200 00000003 0001 0003 61 627463", true},
    {"timed", "03 02 0000 000003e8 0000 0000", true},
    {"empty", "", false, DcepError::kEmpty},
    {"unknown type", "04", false, DcepError::kUnknownType},
    {"ack with a byte more", "02 00", false, DcepError::kTrailingBytes},
    {"open fixed part cut", "03 00 0100 00000000 0004 00", false, DcepError::kTruncated},
    {"label longer than the message", "03 00 0100 00000000 0005 0000 63686174", false, DcepError::kTruncated},
    {"protocol longer than the message", "03 00 0100 00000000 0004 0001 63686174", false, DcepError::kTruncated},
    {"label length 65535, nothing after", "03 00 0100 00000000 ffff ffff", false, DcepError::kTruncated},
    {"bytes after the protocol", "03 00 0100 00000000 0004 0000 63686174 00", false, DcepError::kTrailingBytes},
    {"channel type 0x03", "03 03 0000 00000000 0000 0000", false, DcepError::kBadChannelType},
    {"channel type 0x40", "03 40 0000 00000000 0000 0000", false, DcepError::kBadChannelType},
    {"channel type 0x83", "03 83 0000 00000000 0000 0000", false, DcepError::kBadChannelType},
    {"label not utf-8", "03 00 0000 00000000 0001 0000 ff", false, DcepError::kBadUtf8},
    {"protocol not utf-8", "03 00 0000 00000000 0000 0002 c0af", false, DcepError::kBadUtf8},
};

TEST(Dcep, ParseRows) {
  for (const ParseRow& row : kParseRows) {
    SCOPED_TRACE(row.name);
    const Bytes bytes = from_hex(row.hex);
    const DcepMessage m = parse_dcep(bytes);
    if (row.ok) {
      EXPECT_FALSE(std::holds_alternative<DcepError>(m)) << to_string(std::get<DcepError>(m));
    } else {
      ASSERT_TRUE(std::holds_alternative<DcepError>(m));
      EXPECT_EQ(std::get<DcepError>(m), row.error) << to_string(std::get<DcepError>(m));
    }
  }
}

TEST(Dcep, ChromiumOpenFields) {
  const Bytes bytes = from_hex(kChromiumOpen);
  const auto m = parse_dcep(bytes);
  ASSERT_TRUE(std::holds_alternative<OpenMessage>(m));
  const auto& open = std::get<OpenMessage>(m);
  EXPECT_EQ(open.label, "chat");
  EXPECT_EQ(open.protocol, "");
  EXPECT_TRUE(open.options.ordered);
  EXPECT_EQ(open.options.reliability, Reliability::kReliable);
  EXPECT_EQ(open.options.priority, 256);
  EXPECT_EQ(serialize_open(open), bytes);
}

TEST(Dcep, ReliableIgnoresTheReliabilityParameter) {
  // RFC 8832 §5.1: MUST be 0 on the sending side, MUST be ignored on the receiving side.
  const auto m = parse_dcep(from_hex("03 00 0000 0000002a 0000 0000"));
  ASSERT_TRUE(std::holds_alternative<OpenMessage>(m));
  EXPECT_EQ(std::get<OpenMessage>(m).options.reliability_parameter, 0u);
}

TEST(Dcep, RoundTripsEveryChannelType) {
  for (bool ordered : {true, false}) {
    for (Reliability r : {Reliability::kReliable, Reliability::kRetransmits, Reliability::kLifetime}) {
      OpenMessage open;
      open.options = {ordered, r, r == Reliability::kReliable ? 0u : 7u, 512};
      open.label = "r\xC3\xA9" "actions";  // "réactions"
      open.protocol = "json";
      const Bytes bytes = serialize_open(open);
      const auto m = parse_dcep(bytes);
      ASSERT_TRUE(std::holds_alternative<OpenMessage>(m));
      EXPECT_EQ(std::get<OpenMessage>(m), open);
    }
  }
  EXPECT_TRUE(std::holds_alternative<AckMessage>(parse_dcep(serialize_ack())));
}

TEST(Dcep, SerializeCutsLabelsPastTheLengthField) {
  OpenMessage open;
  open.label = std::string(70000, 'a');
  const Bytes bytes = serialize_open(open);
  EXPECT_EQ(bytes.size(), 12u + 0xFFFF);
  const auto m = parse_dcep(bytes);
  ASSERT_TRUE(std::holds_alternative<OpenMessage>(m));
  EXPECT_EQ(std::get<OpenMessage>(m).label.size(), 0xFFFFu);
}

TEST(Dcep, Ppids) {
  EXPECT_EQ(payload_of(51), Payload::kString);
  EXPECT_EQ(payload_of(53), Payload::kBinary);
  EXPECT_EQ(payload_of(56), Payload::kStringEmpty);
  EXPECT_EQ(payload_of(57), Payload::kBinaryEmpty);
  for (uint32_t deprecated_or_other : {0u, 50u, 52u, 54u, 55u, 58u}) EXPECT_EQ(payload_of(deprecated_or_other), Payload::kNone);
  for (Payload p : {Payload::kString, Payload::kBinary, Payload::kStringEmpty, Payload::kBinaryEmpty})
    EXPECT_EQ(payload_of(ppid_of(p)), p);
  EXPECT_TRUE(is_empty(Payload::kBinaryEmpty));
  EXPECT_FALSE(is_empty(Payload::kString));
}

struct Utf8Row {
  const char* name;
  std::string text;
  bool ok;
};

TEST(Dcep, Utf8) {
  const std::vector<Utf8Row> rows = {
      {"ascii", "chat", true},
      {"empty", "", true},
      {"two bytes", "\xC3\xA9", true},
      {"three bytes", "\xE2\x82\xAC", true},
      {"four bytes", "\xF0\x9F\x8E\x81", true},
      {"U+10FFFF", "\xF4\x8F\xBF\xBF", true},
      {"lone continuation", "\x80", false},
      {"overlong two", "\xC0\xAF", false},
      {"overlong three", "\xE0\x80\xAF", false},
      {"overlong four", "\xF0\x80\x80\xAF", false},
      {"surrogate", "\xED\xA0\x80", false},
      {"above U+10FFFF", "\xF4\x90\x80\x80", false},
      {"F5 lead", "\xF5\x80\x80\x80", false},
      {"cut three", "\xE2\x82", false},
      {"cut four at the end", "ok\xF0\x9F\x8E", false},
      {"nul is a character", std::string("a\0b", 3), true},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(is_utf8(row.text), row.ok);
  }
}

}  // namespace
}  // namespace strata::datachannel
