#include "engine/cluster/token_cache.h"

#include <gtest/gtest.h>

#include <map>

namespace replsim::cluster {
namespace {

struct Records {
  std::map<std::string, std::string> stored;
  TokenCache::Lookup lookup() {
    return [this](const std::string& path) -> std::optional<std::string> {
      auto it = stored.find(path);
      if (it == stored.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(TokenCache, AStoredTokenIsValidWithTheTimeLeftUntilItsExpiry) {
  Records r;
  r.stored[TokenCache::record_path("s.abc")] = TokenCache::record_value(1000);
  TokenCache cache;
  int64_t ttl_us = 0;
  EXPECT_TRUE(cache.check("s.abc", 400, r.lookup(), &ttl_us).is_ok());
  EXPECT_EQ(ttl_us, 600);
  EXPECT_EQ(cache.unknown_refused(), 0u);
}

TEST(TokenCache, TheRecordHoldsAHashOfTheTokenNeverTheToken) {
  std::string path = TokenCache::record_path("s.secret-token");
  EXPECT_EQ(path.rfind("sys/token/", 0), 0u);
  EXPECT_EQ(path.find("secret"), std::string::npos);
  EXPECT_EQ(path.size(), std::string("sys/token/").size() + 64);
  EXPECT_NE(path, TokenCache::record_path("s.other"));
}

TEST(TokenCache, UnknownMissingExpiredAndUnreadableTokensAreRefused) {
  Records r;
  r.stored[TokenCache::record_path("s.old")] = TokenCache::record_value(100);
  r.stored[TokenCache::record_path("s.bad")] = "soon";
  TokenCache cache;
  int64_t ttl_us = -1;
  Status unknown = cache.check("s.other-cluster", 200, r.lookup(), &ttl_us);
  EXPECT_EQ(unknown.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cache.unknown_refused(), 1u);
  EXPECT_EQ(cache.check("", 200, r.lookup(), &ttl_us).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cache.check("s.old", 100, r.lookup(), &ttl_us).code(),
            StatusCode::kPermissionDenied);  // expiry is exclusive
  EXPECT_EQ(cache.check("s.bad", 0, r.lookup(), &ttl_us).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ttl_us, -1);  // untouched on refusal
  EXPECT_EQ(cache.unknown_refused(), 1u);
}

TEST(TokenCache, TheMemoIsBoundedAndAlwaysGivesTheRecordPath) {
  TokenCache cache(3);
  for (int i = 0; i < 10; ++i) {
    std::string token = "s." + std::to_string(i);
    EXPECT_EQ(cache.path(token), TokenCache::record_path(token));
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_EQ(cache.path("s.9"), TokenCache::record_path("s.9"));
}

TEST(TokenCache, ExpiryRecordsRoundTrip) {
  EXPECT_EQ(TokenCache::parse_expiry(TokenCache::record_value(123456789)), 123456789);
  EXPECT_EQ(TokenCache::parse_expiry(""), std::nullopt);
  EXPECT_EQ(TokenCache::parse_expiry("12x"), std::nullopt);
}

}  // namespace
}  // namespace replsim::cluster
