#include "engine/merkle/merkle_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace replsim::merkle {
namespace {

TEST(MerkleIndex, EmptyRootIsZeroAndHexIs40Digits) {
  MerkleIndex index;
  EXPECT_EQ(index.root(), kEmptyHash);
  EXPECT_EQ(index.root_hex().size(), 40u);
}

TEST(MerkleIndex, PutThenEraseRestoresRoot) {
  MerkleIndex index;
  index.put("a", "1");
  const Hash160 one = index.root();
  index.put("b", "2");
  EXPECT_NE(index.root(), one);
  index.erase("b");
  EXPECT_EQ(index.root(), one);
  index.erase("a");
  EXPECT_EQ(index.root(), kEmptyHash);
  EXPECT_EQ(index.size(), 0u);
}

TEST(MerkleIndex, ValueChangeChangesRoot) {
  MerkleIndex index;
  index.put("a", "1");
  const Hash160 one = index.root();
  index.put("a", "2");
  EXPECT_NE(index.root(), one);
  EXPECT_EQ(index.size(), 1u);
}

RC_GTEST_PROP(MerkleIndex, RootDependsOnlyOnFinalEntriesNotWriteOrder,
              (std::vector<std::pair<uint8_t, uint8_t>> ops, uint64_t seed)) {
  const MerkleShape shape{3, 2};
  MerkleIndex a(shape);
  std::map<std::string, std::string> final_state;
  for (auto [k, v] : ops) {
    const std::string path = "k" + std::to_string(k % 64);
    if (v % 5 == 0) {
      a.erase(path);
      final_state.erase(path);
    } else {
      a.put(path, std::to_string(v));
      final_state[path] = std::to_string(v);
    }
  }
  std::vector<std::pair<std::string, std::string>> entries(final_state.begin(), final_state.end());
  std::mt19937_64 g(seed);
  std::shuffle(entries.begin(), entries.end(), g);
  MerkleIndex b(shape);
  for (auto& [p, v] : entries) b.put(p, v);
  RC_ASSERT(a.root() == b.root());
  RC_ASSERT(a.size() == final_state.size());
  for (uint32_t i = 0; i < shape.bucket_count(); ++i) RC_ASSERT(a.bucket(i) == b.bucket(i));
}

TEST(MerkleIndex, UnloadedBucketsLoadOnFirstAccess) {
  const MerkleShape shape{2, 2};
  MerkleIndex full(shape);
  for (int i = 0; i < 100; ++i) full.put("p" + std::to_string(i), "v");
  MerkleIndex lazy(shape);
  int loads = 0;
  lazy.set_loader([&](uint32_t b) {
    ++loads;
    return full.bucket(b);
  });
  for (uint32_t b = 0; b < shape.bucket_count(); ++b) {
    lazy.set_bucket_unloaded(b, full.bucket_hash(b), full.bucket_size(b));
  }
  EXPECT_EQ(lazy.root(), full.root());
  EXPECT_EQ(loads, 0);
  EXPECT_EQ(lazy.size(), 100u);
  lazy.put("p1", "w");
  EXPECT_EQ(loads, 1);
  full.put("p1", "w");
  EXPECT_EQ(lazy.root(), full.root());
}

}  // namespace
}  // namespace replsim::merkle
