#include "engine/status.h"

#include <gtest/gtest.h>

#include "engine/types.h"

namespace replsim {
namespace {

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status::ok().is_ok());
  const Status s = Status::no_space("disk c1 is full");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kNoSpace);
  EXPECT_EQ(s.to_string(), "NoSpace: disk c1 is full");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::not_found("key a"));
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(StatusTest, ResultRefusesOkStatusWithoutValue) {
  EXPECT_DEATH(
      {
        Result<int> r{Status::ok()};
        (void)r;
      },
      "assertion failed");
}

TEST(TypesTest, StrongIdsOrderAndCompare) {
  EXPECT_LT(WalIndex(3), WalIndex(4));
  EXPECT_EQ(NodeId(2), NodeId(2));
}

}  // namespace
}  // namespace replsim
