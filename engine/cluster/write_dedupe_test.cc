#include "engine/cluster/write_dedupe.h"

#include <gtest/gtest.h>

namespace replsim::cluster {
namespace {

Position at(uint64_t epoch, uint64_t index) { return Position{Epoch(epoch), WalIndex(index)}; }

TEST(WriteDedupe, ARetryFindsThePositionOfTheFirstCommit) {
  WriteDedupe d(10);
  EXPECT_EQ(d.find(7), nullptr);
  d.record(7, at(256, 12), true);
  ASSERT_NE(d.find(7), nullptr);
  EXPECT_EQ(*d.find(7), at(256, 12));
  EXPECT_FALSE(d.contains(8));
}

TEST(WriteDedupe, TheTableStaysBoundedAndForgetsTheOldestFirst) {
  WriteDedupe d(3);
  for (uint64_t id = 1; id <= 5; ++id) {
    d.record(id, at(1, id), /*persisted=*/id % 2 == 1);
    EXPECT_LE(d.size(), 3u);
  }
  EXPECT_FALSE(d.contains(1));
  EXPECT_FALSE(d.contains(2));
  EXPECT_TRUE(d.contains(3));
  EXPECT_TRUE(d.contains(5));
}

TEST(WriteDedupe, TheNextCommitDeletesTheOldestRecordOnlyWhenFullAndPersisted) {
  WriteDedupe d(2);
  d.record(1, at(1, 1), true);
  EXPECT_EQ(d.evict_record(), std::nullopt);  // not full
  d.record(2, at(1, 2), false);
  EXPECT_EQ(d.evict_record(), std::optional<uint64_t>(1));
  d.record(3, at(1, 3), true);                // evicts 1
  EXPECT_EQ(d.evict_record(), std::nullopt);  // oldest (2) is in memory only
}

TEST(WriteDedupe, PersistedRecordsLoadAndAMalformedPositionIsUnknown) {
  WriteDedupe d(10);
  EXPECT_TRUE(d.load(WriteDedupe::record_path(5), "512/77"));
  EXPECT_TRUE(d.load(WriteDedupe::record_path(6), ""));      // position never filled in
  EXPECT_TRUE(d.load(WriteDedupe::record_path(9), "12/x"));  // garbage
  EXPECT_FALSE(d.load("sys/dedupe/notanumber", "1/1"));      // not a request id
  EXPECT_FALSE(d.load(WriteDedupe::record_path(5), "1/1"));  // already loaded
  EXPECT_EQ(*d.find(5), at(512, 77));
  EXPECT_FALSE(d.find(6)->known());
  EXPECT_FALSE(d.find(9)->known());
  EXPECT_EQ(d.size(), 3u);
}

TEST(WriteDedupe, LoadingMoreRecordsThanTheBoundKeepsTheBound) {
  WriteDedupe d(2);
  for (uint64_t id = 1; id <= 4; ++id) d.load(WriteDedupe::record_path(id), "1/1");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_TRUE(d.contains(4));
}

TEST(WriteDedupe, PositionsRoundTripThroughTheirRecordText) {
  EXPECT_EQ(WriteDedupe::parse_position("0/0"), at(0, 0));
  EXPECT_EQ(WriteDedupe::parse_position("18446744073709551615/3"), at(18446744073709551615ull, 3));
  EXPECT_EQ(WriteDedupe::parse_position("5"), std::nullopt);
  EXPECT_EQ(WriteDedupe::parse_position("/5"), std::nullopt);
  EXPECT_EQ(WriteDedupe::parse_position("5/"), std::nullopt);
  EXPECT_EQ(WriteDedupe::parse_position("-1/5"), std::nullopt);
  EXPECT_EQ(WriteDedupe::record_path(42), "sys/dedupe/42");
}

TEST(WriteDedupeDeathTest, RecordingAWriteTwiceIsABrokenInvariant) {
  WriteDedupe d(10);
  d.record(1, at(1, 1), false);
  EXPECT_DEATH(d.record(1, at(1, 2), false), "recorded twice");
}

}  // namespace
}  // namespace replsim::cluster
