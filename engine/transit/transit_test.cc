// Transit: Vault's ciphertext format, versions, context, and errors that never hand back a
// wrong plaintext.
#include "engine/transit/transit.h"

#include <gtest/gtest.h>

#include "sim/prng.h"

namespace replsim::transit {
namespace {

proto::TransitKey make_key(sim::Prng& rng) {
  Result<proto::TransitKey> k = create_key("orders", "aes256-gcm96", rng, 1000);
  EXPECT_TRUE(k.is_ok()) << k.status().to_string();
  return *k;
}

TEST(Transit, EncryptDecryptRoundTripsInVaultFormat) {
  sim::Prng rng(7);
  proto::TransitKey key = make_key(rng);
  Result<std::string> ct = encrypt(key, "attack at dawn", "", rng);
  ASSERT_TRUE(ct.is_ok());
  EXPECT_EQ(ct->rfind("vault:v1:", 0), 0u) << *ct;
  Result<std::string> pt = decrypt(key, *ct, "");
  ASSERT_TRUE(pt.is_ok()) << pt.status().to_string();
  EXPECT_EQ(*pt, "attack at dawn");
  EXPECT_EQ(*version_of(*ct), 1u);
}

TEST(Transit, SamePlaintextEncryptsDifferentlyEachTime) {
  sim::Prng rng(7);
  proto::TransitKey key = make_key(rng);
  EXPECT_NE(*encrypt(key, "x", "", rng), *encrypt(key, "x", "", rng));
}

TEST(Transit, RotatedKeyDecryptsOlderVersionsAndEncryptsWithTheLatest) {
  sim::Prng rng(7);
  proto::TransitKey key = make_key(rng);
  std::string v1 = *encrypt(key, "one", "", rng);
  key = *rotate_key(key, rng, 2000);
  EXPECT_EQ(latest_version(key), 2u);
  std::string v2 = *encrypt(key, "two", "", rng);
  EXPECT_EQ(v2.rfind("vault:v2:", 0), 0u);
  EXPECT_EQ(*decrypt(key, v1, ""), "one");
  EXPECT_EQ(*decrypt(key, v2, ""), "two");
  Result<std::string> rewrapped = rewrap(key, v1, "", rng);
  ASSERT_TRUE(rewrapped.is_ok());
  EXPECT_EQ(rewrapped->rfind("vault:v2:", 0), 0u);
  EXPECT_EQ(*decrypt(key, *rewrapped, ""), "one");
}

TEST(Transit, MinDecryptionVersionRefusesOlderCiphertexts) {
  sim::Prng rng(7);
  proto::TransitKey key = make_key(rng);
  std::string v1 = *encrypt(key, "one", "", rng);
  key = *rotate_key(key, rng, 2000);
  key = *configure_key(key, 2, false);
  Result<std::string> pt = decrypt(key, v1, "");
  EXPECT_EQ(pt.status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(configure_key(key, 3, false).is_ok()) << "above the latest version";
}

TEST(Transit, UnknownVersionIsAnErrorNeverAWrongPlaintext) {
  sim::Prng rng(7);
  proto::TransitKey old_copy = make_key(rng);  // a secondary that has not seen v2 yet
  proto::TransitKey key = *rotate_key(old_copy, rng, 2000);
  std::string v2 = *encrypt(key, "secret", "", rng);
  Result<std::string> pt = decrypt(old_copy, v2, "");
  EXPECT_EQ(pt.status().code(), StatusCode::kNotFound);
  EXPECT_NE(pt.status().message().find("key version unknown"), std::string::npos);
}

TEST(Transit, ContextIsAuthenticated) {
  sim::Prng rng(7);
  proto::TransitKey key = make_key(rng);
  std::string ct = *encrypt(key, "pii", "tenant-a", rng);
  EXPECT_EQ(*decrypt(key, ct, "tenant-a"), "pii");
  EXPECT_EQ(decrypt(key, ct, "tenant-b").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(decrypt(key, ct, "").status().code(), StatusCode::kCorruption);
}

TEST(Transit, OtherKeysAndTamperedCiphertextsAreRefused) {
  sim::Prng rng(7);
  proto::TransitKey a = make_key(rng);
  proto::TransitKey b = *create_key("other", "", rng, 0);
  std::string ct = *encrypt(a, "value", "", rng);
  EXPECT_EQ(decrypt(b, ct, "").status().code(), StatusCode::kCorruption);
  std::string flipped = ct;
  flipped[12] = flipped[12] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(decrypt(a, flipped, "").is_ok());
  for (std::string bad : {"", "vault:", "vault:v", "vault:v0:AAAA", "vault:vx:AAAA",
                          "vault:v1:!!!!", "vault:v1:AAA", "vault:v1:AAAA", "plain"}) {
    Result<std::string> r = decrypt(a, bad, "");
    EXPECT_FALSE(r.is_ok()) << bad;
  }
}

TEST(Transit, KeyNamesAndTypesAreValidated) {
  sim::Prng rng(7);
  EXPECT_FALSE(create_key("", "", rng, 0).is_ok());
  EXPECT_FALSE(create_key("a/b", "", rng, 0).is_ok());
  EXPECT_FALSE(create_key(std::string(129, 'a'), "", rng, 0).is_ok());
  EXPECT_FALSE(create_key("k", "rsa-2048", rng, 0).is_ok());
  EXPECT_TRUE(create_key(std::string(128, 'a'), "", rng, 0).is_ok());
}

TEST(Transit, Base64MatchesTheStandardAlphabetAndRefusesGarbage) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(*base64_decode("Zg=="), "f");
  EXPECT_EQ(*base64_decode("Zm8="), "fo");
  EXPECT_EQ(*base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_FALSE(base64_decode("Zm9").is_ok());
  EXPECT_FALSE(base64_decode("Zm9*").is_ok());
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*base64_decode(base64_encode(all)), all);
}

}  // namespace
}  // namespace replsim::transit
