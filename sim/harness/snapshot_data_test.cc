// SnapshotData reads like the std::map it replaces: same order, lookups and equality of
// contents, whether its strings are shared through an arena or owned.
#include "sim/harness/snapshot_data.h"

#include <gtest/gtest.h>

namespace replsim::harness {
namespace {

TEST(SnapshotData, ReadsLikeTheMapItWasBuiltFrom) {
  const std::map<std::string, std::string> m = {{"kv/b", "2"}, {"kv/a", "1"}, {"sys/x", "3"}};
  const SnapshotData d(m);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.to_map(), m);
  std::vector<std::string> order;
  for (const auto& [path, value] : d) order.push_back(path + "=" + value);
  EXPECT_EQ(order, (std::vector<std::string>{"kv/a=1", "kv/b=2", "sys/x=3"}));
  ASSERT_NE(d.find("kv/b"), d.end());
  EXPECT_EQ(d.find("kv/b")->second, "2");
  EXPECT_EQ(d.find("kv/c"), d.end());
  EXPECT_EQ(d.lower_bound("kv/c")->first, "sys/x");
  EXPECT_EQ(d.lower_bound("zz"), d.end());
}

TEST(SnapshotData, EqualityComparesContentsAcrossArenas) {
  auto arena = std::make_shared<StringArena>();
  SnapshotData shared;
  shared.push_back(arena, arena->add("kv/a"), arena->add("1"));
  shared.push_back(arena, arena->add("kv/b"), arena->add("2"));
  const SnapshotData owned = {{"kv/a", "1"}, {"kv/b", "2"}};
  EXPECT_EQ(shared, owned);
  const SnapshotData other_value = {{"kv/a", "1"}, {"kv/b", "3"}};
  const SnapshotData other_path = {{"kv/a", "1"}, {"kv/c", "2"}};
  const SnapshotData fewer = {{"kv/a", "1"}};
  EXPECT_NE(shared, other_value);
  EXPECT_NE(shared, other_path);
  EXPECT_NE(shared, fewer);
  SnapshotData cleared = owned;
  cleared.clear();
  EXPECT_TRUE(cleared.empty());
  EXPECT_EQ(cleared, SnapshotData());
}

TEST(SnapshotData, SharedStringsOutliveTheirCreatorThroughTheArena) {
  SnapshotData d;
  {
    auto arena = std::make_shared<StringArena>();
    d.push_back(arena, arena->add("kv/a"), arena->add(std::string(300, 'v')));
  }
  EXPECT_EQ(d.find("kv/a")->second, std::string(300, 'v'));
}

TEST(SnapshotDataDeathTest, PathsOutOfOrderAreRefused) {
  auto arena = std::make_shared<StringArena>();
  SnapshotData d;
  d.push_back(arena, arena->add("kv/b"), arena->add("2"));
  EXPECT_DEATH(d.push_back(arena, arena->add("kv/a"), arena->add("1")), "path order");
}

}  // namespace
}  // namespace replsim::harness
