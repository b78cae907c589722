#include "dtls/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <regex>

namespace strata::dtls {
namespace {

std::shared_ptr<const Certificate> shared_cert() {
  static auto cert = Certificate::generate();
  return cert;
}

TEST(Certificate, GeneratesSelfSignedP256WithCnStrata) {
  auto cert = shared_cert();
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(cert->x509(), nullptr);
  ASSERT_NE(cert->key(), nullptr);
  ASSERT_NE(cert->ssl_ctx(), nullptr);
  EXPECT_EQ(X509_verify(cert->x509(), cert->key()), 1);  // signed by its own key
  EXPECT_EQ(EVP_PKEY_get_base_id(cert->key()), EVP_PKEY_EC);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert->x509()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "strata");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert->x509()), X509_get_issuer_name(cert->x509())), 0);
}

TEST(Certificate, ValidNowForAboutThirtyDays) {
  auto cert = shared_cert();
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert->x509()), X509_get0_notAfter(cert->x509())), 1);
  EXPECT_GE(days, 30);
  EXPECT_LE(days, 32);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert->x509())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert->x509())), 0);
}

TEST(Certificate, SerialsAndFingerprintsDiffer) {
  auto a = shared_cert();
  auto b = Certificate::generate();
  ASSERT_NE(b, nullptr);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a->x509()), X509_get0_serialNumber(b->x509())), 0);
  EXPECT_NE(a->fingerprint_sha256(), b->fingerprint_sha256());
}

TEST(Certificate, Sha256FingerprintIsSdpFormat) {
  std::string fp = shared_cert()->fingerprint_sha256();
  EXPECT_EQ(fp.size(), 95u);
  EXPECT_TRUE(std::regex_match(fp, std::regex("^([0-9A-F]{2}:){31}[0-9A-F]{2}$"))) << fp;
  EXPECT_EQ(fp, fingerprint_of(shared_cert()->x509(), "SHA-256"));  // names are case-insensitive
}

struct AlgorithmCase {
  const char* name;
  size_t digest_bytes;
};

class FingerprintAlgorithm : public testing::TestWithParam<AlgorithmCase> {};

TEST_P(FingerprintAlgorithm, FormatsAndParsesBack) {
  const AlgorithmCase& c = GetParam();
  std::string fp = fingerprint_of(shared_cert()->x509(), c.name);
  EXPECT_EQ(fp.size(), c.digest_bytes * 3 - 1);
  std::optional<Bytes> parsed = parse_fingerprint(fp);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, digest_of(shared_cert()->x509(), c.name));
  EXPECT_EQ(format_fingerprint(*parsed), fp);
}

INSTANTIATE_TEST_SUITE_P(All, FingerprintAlgorithm,
                         testing::Values(AlgorithmCase{"sha-1", 20}, AlgorithmCase{"sha-256", 32},
                                         AlgorithmCase{"sha-384", 48}, AlgorithmCase{"sha-512", 64}),
                         [](const testing::TestParamInfo<AlgorithmCase>& info) {
                           std::string name = info.param.name;
                           name.erase(name.find('-'), 1);
                           return name;
                         });

TEST(Fingerprint, UnknownAlgorithmGivesEmpty) {
  EXPECT_EQ(fingerprint_of(shared_cert()->x509(), "md5"), "");
  EXPECT_EQ(fingerprint_of(shared_cert()->x509(), ""), "");
  EXPECT_EQ(fingerprint_of(nullptr, "sha-256"), "");
  EXPECT_FALSE(digest_of(shared_cert()->x509(), "sha-2566"));
  EXPECT_EQ(digest_for_algorithm("sha256"), nullptr);
}

TEST(Fingerprint, ParseAcceptsLowercase) {
  EXPECT_EQ(parse_fingerprint("ab:0C:ff"), (Bytes{0xab, 0x0c, 0xff}));
  EXPECT_EQ(parse_fingerprint("7F"), (Bytes{0x7f}));
}

class MalformedFingerprint : public testing::TestWithParam<const char*> {};

TEST_P(MalformedFingerprint, IsRejected) { EXPECT_FALSE(parse_fingerprint(GetParam())); }

INSTANTIATE_TEST_SUITE_P(All, MalformedFingerprint,
                         testing::Values("", "A", "AB:", ":AB", "AB:C", "AB-CD", "ABCD", "AB::CD",
                                         "GG:00", "AB:CD:", " AB:CD", "AB:CD ", "AB:C\xff"));

}  // namespace
}  // namespace strata::dtls
