#include "engine/storage/mount_table.h"

#include <gtest/gtest.h>

namespace replsim {
namespace {

TEST(MountTable, TokensAndLeasesAreLocalByDefault) {
  MountTable mounts;
  EXPECT_TRUE(mounts.is_local("sys/token/abc"));
  EXPECT_TRUE(mounts.is_local("sys/lease/secret/db/1"));
  EXPECT_FALSE(mounts.is_local("sys/tokenizer"));
  EXPECT_FALSE(mounts.is_local("secret/app"));
  EXPECT_TRUE(mounts.is_replicated("auth/userpass/users/alice"));
}

TEST(MountTable, ConfiguredPrefixesAreLocal) {
  MountTable mounts({"local-kv/"});
  mounts.add_local("cache/");
  mounts.add_local("cache/");
  EXPECT_TRUE(mounts.is_local("local-kv/x"));
  EXPECT_TRUE(mounts.is_local("cache/y"));
  EXPECT_FALSE(mounts.is_local("local-kvx"));
  EXPECT_EQ(mounts.local_prefixes().size(), 4u);
}

}  // namespace
}  // namespace replsim
