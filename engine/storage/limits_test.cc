#include "engine/storage/limits.h"

#include <gtest/gtest.h>

#include <string>

namespace replsim::limits {
namespace {

TEST(Limits, PathExactlyAtTheLimitIsAcceptedAndOneByteMoreRefused) {
  EXPECT_TRUE(validate_path(std::string(kPathBytesMax, 'p')).is_ok());
  const Status s = validate_path(std::string(kPathBytesMax + 1, 'p'));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("8192"), std::string::npos) << s.message();
  EXPECT_TRUE(validate_path("secret/" + std::string(4100 - 7, 'k')).is_ok());  // the issue's
}

TEST(Limits, PathMustBeNonEmptyUtf8WithoutNul) {
  EXPECT_EQ(validate_path("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validate_path(std::string("a\0b", 3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validate_path("bad\xff\xfe").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validate_path("half\xe2\x82").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(validate_path("secret/\xe2\x82\xac/\xf0\x9f\x94\x91").is_ok());  // € and 🔑
}

TEST(Limits, ValueExactlyAtTheLimitIsAcceptedAndOneByteMoreRefused) {
  EXPECT_TRUE(validate_write("p", std::string(kValueBytesMax, '\xff')).is_ok());
  EXPECT_EQ(validate_write("p", std::string(kValueBytesMax + 1, 'v')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(validate_value("").is_ok());
}

TEST(Limits, TransactionBoundsCountAndBytes) {
  std::vector<Mutation> txn(kTransactionMutationsMax, Mutation{"p", "v", false});
  EXPECT_TRUE(validate_transaction(txn).is_ok());
  txn.push_back(Mutation{"p", "", true});
  EXPECT_EQ(validate_transaction(txn).code(), StatusCode::kInvalidArgument);
  // 64 values at the limit are 32 MiB: with their 1-byte paths, 64 bytes too many.
  std::vector<Mutation> big(64, Mutation{"p", std::string(kValueBytesMax, 'v'), false});
  EXPECT_EQ(validate_transaction(big).code(), StatusCode::kInvalidArgument);
  big.pop_back();
  EXPECT_TRUE(validate_transaction(big).is_ok());
  big.push_back(Mutation{std::string(kPathBytesMax, 'x'), "", true});  // deletes carry no value
  EXPECT_TRUE(validate_transaction(big).is_ok());
}

}  // namespace
}  // namespace replsim::limits
