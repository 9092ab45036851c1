#include "sim/prng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace replsim::sim {
namespace {

TEST(PrngTest, SameSeedSameStreamDifferentSeedDifferent) {
  Prng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
  }
  Prng a2(42);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a2.next_u64() == c.next_u64();
  EXPECT_LT(same, 2);
}

TEST(PrngTest, ChildStreamsAreStableWhateverTheParentDrew) {
  Prng parent(7);
  Prng before = parent.child("network");
  for (int i = 0; i < 1000; ++i) parent.next_u64();
  Prng after = parent.child("network");
  EXPECT_EQ(before.next_u64(), after.next_u64());
  EXPECT_NE(parent.child("disk").next_u64(), parent.child("network").next_u64());
}

TEST(PrngTest, DistributionsHaveTheirMeans) {
  Prng r(1);
  const int n = 200000;
  double exp_sum = 0, norm_sum = 0, norm_sq = 0;
  int heads = 0;
  for (int i = 0; i < n; ++i) {
    exp_sum += r.exponential(30.0);
    const double x = r.normal(50.0, 10.0);
    norm_sum += x;
    norm_sq += (x - 50.0) * (x - 50.0);
    heads += r.bernoulli(0.2);
  }
  EXPECT_NEAR(exp_sum / n, 30.0, 0.5);
  EXPECT_NEAR(norm_sum / n, 50.0, 0.1);
  EXPECT_NEAR(std::sqrt(norm_sq / n), 10.0, 0.1);
  EXPECT_NEAR(static_cast<double>(heads) / n, 0.2, 0.005);
}

TEST(PrngTest, UniformStaysInRange) {
  Prng r(3);
  for (int i = 0; i < 10000; ++i) {
    const int64_t v = r.uniform_range(-5, 5);
    EXPECT_GE(v, -5);
    EXPECT_LE(v, 5);
  }
}

TEST(ZipfTest, RankOneIsMostFrequentAndFollowsThePowerLaw) {
  Prng r(9);
  Zipf zipf(10000, 1.0);
  std::vector<int> counts(10001, 0);
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const uint64_t k = zipf.sample(r);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, 10000u);
    ++counts[k];
  }
  EXPECT_GT(counts[1], counts[2]);
  EXPECT_GT(counts[2], counts[10]);
  // P(1)/P(2) = 2 for s = 1.
  EXPECT_NEAR(static_cast<double>(counts[1]) / counts[2], 2.0, 0.15);
}

}  // namespace
}  // namespace replsim::sim
