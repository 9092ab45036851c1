#include "engine/storage/barrier.h"

#include <gtest/gtest.h>

#include "engine/base/coding.h"

namespace replsim {
namespace {

// A deterministic Random for tests (SplitMix64).
class TestRandom final : public Random {
 public:
  explicit TestRandom(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() override {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

TEST(Barrier, RoundTripsAndHidesThePlaintext) {
  TestRandom random(1);
  Barrier barrier(Keyring::generate(random), random);
  const std::string plain = "PLAINTEXT-password-hunter2";
  const std::string ct = barrier.encrypt("secret/db", plain);
  EXPECT_EQ(ct.size(), plain.size() + kBarrierOverheadBytes);
  EXPECT_EQ(ct.find("hunter2"), std::string::npos);
  Result<std::string> back = barrier.decrypt("secret/db", ct);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, plain);
  EXPECT_NE(barrier.encrypt("secret/db", plain), ct);  // fresh nonce each time
}

TEST(Barrier, CiphertextMovedToAnotherPathFailsToDecrypt) {
  TestRandom random(2);
  Barrier barrier(Keyring::generate(random), random);
  const std::string ct = barrier.encrypt("secret/a", "value");
  EXPECT_EQ(barrier.decrypt("secret/b", ct).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(barrier.decrypt("secret/a ", ct).status().code(), StatusCode::kCorruption);
}

TEST(Barrier, WrongKeyFailsToDecrypt) {
  TestRandom random(3);
  Barrier mine(Keyring::generate(random), random);
  Barrier other(Keyring::generate(random), random);  // same term 1, another key
  const std::string ct = mine.encrypt("secret/a", "value");
  EXPECT_EQ(other.decrypt("secret/a", ct).status().code(), StatusCode::kCorruption);
}

TEST(Barrier, EveryTamperedByteIsDetected) {
  TestRandom random(4);
  Barrier barrier(Keyring::generate(random), random);
  const std::string ct = barrier.encrypt("p", "some value");
  for (size_t i = 0; i < ct.size(); ++i) {
    std::string bad = ct;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(barrier.decrypt("p", bad).is_ok()) << i;
  }
  EXPECT_FALSE(barrier.decrypt("p", ct.substr(0, 10)).is_ok());
}

TEST(Barrier, InstallingAnotherKeyForTheSameTermForgetsTheOldOne) {
  TestRandom random(7);
  Barrier barrier(Keyring::generate(random), random);
  const std::string old_ct = barrier.encrypt("p", "old value");
  ASSERT_TRUE(barrier.decrypt("p", old_ct).is_ok());
  barrier.install(Keyring::generate(random));  // term 1 again, another key
  EXPECT_EQ(barrier.decrypt("p", old_ct).status().code(), StatusCode::kCorruption);
  const std::string new_ct = barrier.encrypt("p", "new value");
  Result<std::string> back = barrier.decrypt("p", new_ct);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, "new value");
}

TEST(Barrier, AFailedDecryptLeavesTheBarrierUsable) {
  TestRandom random(8);
  Barrier barrier(Keyring::generate(random), random);
  for (int i = 0; i < 3; ++i) {
    const std::string ct = barrier.encrypt("p", "value " + std::to_string(i));
    EXPECT_FALSE(barrier.decrypt("q", ct).is_ok());
    Result<std::string> back = barrier.decrypt("p", ct);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, "value " + std::to_string(i));
  }
}

TEST(Barrier, RotationKeepsOldTermsReadable) {
  TestRandom random(5);
  Barrier barrier(Keyring::generate(random), random);
  const std::string old_ct = barrier.encrypt("k", "old");
  EXPECT_EQ(barrier.rotate(), 2u);
  const std::string new_ct = barrier.encrypt("k", "new");
  EXPECT_EQ(*Barrier::term_of(old_ct), 1u);
  EXPECT_EQ(*Barrier::term_of(new_ct), 2u);
  EXPECT_EQ(*barrier.decrypt("k", old_ct), "old");
  EXPECT_EQ(*barrier.decrypt("k", new_ct), "new");
  // A keyring without term 2 (a secondary activated before the rotation) cannot read it.
  Keyring only_first;
  only_first.add_key(1, *barrier.keyring().key(1));
  Barrier stale(only_first, random);
  EXPECT_EQ(*stale.decrypt("k", old_ct), "old");
  EXPECT_EQ(stale.decrypt("k", new_ct).status().code(), StatusCode::kNotFound);
}

TEST(Barrier, RelabelledTermFailsAuthentication) {
  TestRandom random(6);
  Keyring ring = Keyring::generate(random);
  Keyring same_key_twice = ring;
  same_key_twice.add_key(2, *ring.key(1));  // even with the same key under both terms
  Barrier barrier(same_key_twice, random);
  std::string ct = barrier.encrypt("k", "v");
  ASSERT_EQ(*Barrier::term_of(ct), 2u);
  std::string relabelled = ct.substr(0, 1);
  put_fixed32(&relabelled, 1);
  relabelled += ct.substr(5);
  EXPECT_EQ(barrier.decrypt("k", relabelled).status().code(), StatusCode::kCorruption);
}

TEST(Keyring, SerializesForActivation) {
  TestRandom random(7);
  Keyring ring = Keyring::generate(random);
  ring.rotate(random);
  ring.rotate(random);
  Result<Keyring> back = Keyring::parse(ring.serialize());
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, ring);
  EXPECT_EQ(back->active_term(), 3u);
  Barrier primary(ring, random);
  Barrier secondary(Keyring(), random);
  secondary.install(*back);
  EXPECT_EQ(*secondary.decrypt("x", primary.encrypt("x", "shared")), "shared");
  const std::string bytes = ring.serialize();
  EXPECT_FALSE(Keyring::parse(bytes.substr(0, bytes.size() - 1)).is_ok());
  EXPECT_FALSE(Keyring::parse(bytes + "x").is_ok());
}

}  // namespace
}  // namespace replsim
