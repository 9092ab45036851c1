// The Vault API's request parsing is strict: what is not one JSON object, and a known field of
// the wrong type, is refused (the route answers 400 and writes nothing).
#include "runtime/vault_json.h"

#include <gtest/gtest.h>

#include "runtime/vault_util.h"

namespace replsim::runtime {
namespace {

TEST(VaultJson, AnythingButOneObjectIsRefused) {
  for (const char* bad : {"{\"password\":\"pw\"", "{\"a\":1} trailing", "[1,2]", "\"s\"", "5",
                          "{\"a\":}", "{'a':1}", "nul"}) {
    EXPECT_FALSE(parse_json_object(bad).is_ok()) << bad;
  }
  EXPECT_TRUE(parse_json_object("").is_ok());
  EXPECT_TRUE(parse_json_object(" \n").value().empty());
  EXPECT_EQ(parse_json_object(R"({"a": {"b": [1]}})").value()["a"]["b"][0], 1);
}

TEST(VaultJson, MistypedFieldsAreErrorsAndAbsentOnesAreNot) {
  const Json j = parse_json_object(R"({"s": 5, "i": "abc", "b": "maybe", "l": [1], "o": "x",
                                       "d": "-5", "n": null})")
                     .value();
  EXPECT_FALSE(json_opt_string(j, "s").is_ok());
  EXPECT_FALSE(json_opt_int(j, "i").is_ok());
  EXPECT_FALSE(json_opt_bool(j, "b").is_ok());
  EXPECT_FALSE(json_opt_strings(j, "l").is_ok());
  EXPECT_FALSE(json_opt_object(j, "o").is_ok());
  EXPECT_FALSE(json_opt_duration_s(j, "d").is_ok());
  EXPECT_FALSE(json_opt_ints(j, "o").is_ok());
  EXPECT_FALSE(json_opt_string(j, "absent").value().has_value());
  EXPECT_FALSE(json_opt_int(j, "n").value().has_value());
}

TEST(VaultJson, WeakDecodingThatClientsRelyOnIsAccepted) {
  const Json j = parse_json_object(R"({"i": "42", "f": 3.0, "b": "true", "l": "a, b,c",
                                       "d1": "1h30m", "d2": 90, "d3": "45"})")
                     .value();
  EXPECT_EQ(*json_opt_int(j, "i").value(), 42);
  EXPECT_EQ(*json_opt_int(j, "f").value(), 3);
  EXPECT_TRUE(*json_opt_bool(j, "b").value());
  EXPECT_EQ(*json_opt_strings(j, "l").value(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*json_opt_duration_s(j, "d1").value(), 5400);
  EXPECT_EQ(*json_opt_duration_s(j, "d2").value(), 90);
  EXPECT_EQ(*json_opt_duration_s(j, "d3").value(), 45);
  EXPECT_FALSE(parse_duration_s("5x").has_value());
  EXPECT_FALSE(parse_duration_s("h").has_value());
  EXPECT_FALSE(parse_duration_s("").has_value());
}

TEST(VaultUtil, ListsOneLevelWithFoldersAndNoPrefixFalseMatches) {
  const std::vector<std::string> keys = {"m/d/app/db", "m/d/app/nested/x", "m/d/app/nested/y",
                                         "m/d/apple", "m/d/app/z"};
  EXPECT_EQ(one_level(keys, "m/d/app/"), (std::vector<std::string>{"db", "nested/", "z"}));
  EXPECT_EQ(one_level(keys, "m/d/"), (std::vector<std::string>{"app/", "apple"}));
  EXPECT_TRUE(one_level(keys, "m/d/none/").empty());
}

TEST(VaultUtil, IndexStateRoundTripsAndJunkIsRefused) {
  proto::IndexState s;
  s.set_epoch(257);
  s.set_wal_index(12);
  auto back = parse_index_state(format_index_state(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->epoch(), 257u);
  EXPECT_EQ(back->wal_index(), 12u);
  for (const char* bad : {"", "junk", "1:", ":1", "1:2:3", "-1:2", "1:2x"}) {
    EXPECT_FALSE(parse_index_state(bad).has_value()) << bad;
  }
}

TEST(VaultUtil, PasswordHashIsSaltedAndComparedInFull) {
  const std::string a = pbkdf2_hex("pw", "salt1", 1000);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, pbkdf2_hex("pw", "salt1", 1000));
  EXPECT_NE(a, pbkdf2_hex("pw", "salt2", 1000));
  EXPECT_NE(a, pbkdf2_hex("pw", "salt1", 1001));
  EXPECT_NE(a, sha256_hex("pw"));
  EXPECT_TRUE(constant_time_equal(a, a));
  EXPECT_FALSE(constant_time_equal(a, a.substr(1)));
  EXPECT_FALSE(constant_time_equal(a, pbkdf2_hex("pw2", "salt1", 1000)));
}

}  // namespace
}  // namespace replsim::runtime
