#include "sim/harness/history.h"

#include <gtest/gtest.h>

#include <sstream>

namespace replsim::harness {
namespace {

HistoryEvent make(TimeUs t, EventType type, const char* f, std::string key,
                  std::optional<std::string> value, uint64_t op) {
  HistoryEvent e;
  e.time_us = t;
  e.client = 3;
  e.op_id = op;
  e.type = type;
  e.f = f;
  e.key = std::move(key);
  e.value = std::move(value);
  e.node = 7;
  e.cluster = 1;
  return e;
}

TEST(History, JsonLinesRoundTripKeepsEveryField) {
  History h;
  h.append(make(10, EventType::kInvoke, kOpWrite, "kv/k1", std::string("v\"1\n\x01\xff"), 1));
  HistoryEvent ok = make(20, EventType::kOk, kOpWrite, "kv/k1", std::nullopt, 1);
  ok.epoch = 2;
  ok.wal_index = 17;
  ok.warning = "index not applied within 2s";
  ok.forwarded = true;
  ok.served_by_cluster = 0;
  h.append(ok);
  HistoryEvent list = make(30, EventType::kOk, kOpList, "kv/", std::nullopt, 2);
  list.keys = {"kv/a", "kv/b"};
  h.append(list);
  std::stringstream s;
  h.write_jsonl(s);
  History back;
  std::string error;
  ASSERT_TRUE(History::read_jsonl(s, &back, &error)) << error;
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.at(0).value, std::string("v\"1\n\x01\xff"));
  EXPECT_EQ(back.at(1).wal_index, 17u);
  EXPECT_EQ(back.at(1).epoch, 2u);
  EXPECT_TRUE(back.at(1).forwarded);
  EXPECT_EQ(back.at(1).warning, ok.warning);
  EXPECT_FALSE(back.at(1).value.has_value());
  EXPECT_EQ(back.at(2).keys, list.keys);
  EXPECT_EQ(back.invocation_of(back.at(1))->index, 0);
  EXPECT_EQ(to_json(back.at(1)), to_json(h.at(1)));
}

TEST(History, MalformedLineIsReportedWithItsNumber) {
  std::stringstream s("{\"type\":\"ok\",\"time_us\":1,\"client\":1}\n{\"type\":\n");
  History back;
  std::string error;
  EXPECT_FALSE(History::read_jsonl(s, &back, &error));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

}  // namespace
}  // namespace replsim::harness
