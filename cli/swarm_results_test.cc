#include "cli/swarm_results.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/junit.h"

namespace replsim::cli {
namespace {

proto::SwarmResult one_seed(uint64_t seed, bool passed, const std::string& hash = "") {
  proto::SwarmResult r;
  r.set_scenario_file("s.textproto");
  r.set_seed_first(1);
  r.set_seed_last(10);
  r.add_shards("0/1");
  r.set_build_id("build-a");
  r.set_scenario_sha256("sha-a");
  proto::SeedOutcome* s = r.add_seeds();
  s->set_seed(seed);
  s->set_passed(passed);
  s->set_trace_hash(hash.empty() ? "h" + std::to_string(seed) : hash);
  finish_result(&r);
  return r;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("swarm_results_test_" + std::to_string(getpid()) + "_" + name))
      .string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(MissingRanges, ListsEveryGapAsARangeIncludingBothEnds) {
  EXPECT_EQ(missing_ranges(1, 10, {}), std::vector<std::string>{"1..10"});
  EXPECT_EQ(missing_ranges(1, 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), std::vector<std::string>{});
  EXPECT_EQ(missing_ranges(1, 10, {2, 3, 7}), (std::vector<std::string>{"1", "4..6", "8..10"}));
  EXPECT_EQ(missing_ranges(1, 10, {1, 10}), std::vector<std::string>{"2..9"});
  EXPECT_EQ(missing_ranges(5, 5, {}), std::vector<std::string>{"5"});
  EXPECT_EQ(missing_ranges(UINT64_MAX - 2, UINT64_MAX, {UINT64_MAX - 1}),
            (std::vector<std::string>{std::to_string(UINT64_MAX - 2), std::to_string(UINT64_MAX)}));
}

TEST(Journal, AppendedLinesReadBackAndATornTailIsDroppedNotFatal) {
  const std::string path = temp_path("torn.jsonl");
  std::remove(path.c_str());
  {
    JournalWriter w;
    ASSERT_TRUE(w.open(path, 0).is_ok());
    ASSERT_TRUE(w.append(one_seed(1, true)).is_ok());
    ASSERT_TRUE(w.append(one_seed(2, false)).is_ok());
  }
  Result<Journal> whole = read_journal(path);
  ASSERT_TRUE(whole.is_ok());
  ASSERT_EQ(whole->entries.size(), 2u);
  EXPECT_FALSE(whole->torn_tail);
  const uint64_t good = whole->good_bytes;
  EXPECT_EQ(good, std::filesystem::file_size(path));

  std::ofstream(path, std::ios::binary | std::ios::app)
      << to_json_line(one_seed(3, true)).substr(0, 25);
  Result<Journal> torn = read_journal(path);
  ASSERT_TRUE(torn.is_ok());
  EXPECT_TRUE(torn->torn_tail);
  EXPECT_EQ(torn->entries.size(), 2u);
  EXPECT_EQ(torn->good_bytes, good);

  // Reopening at good_bytes cuts the torn tail, so the next line starts clean.
  {
    JournalWriter w;
    ASSERT_TRUE(w.open(path, torn->good_bytes).is_ok());
    ASSERT_TRUE(w.append(one_seed(3, true)).is_ok());
  }
  Result<Journal> resumed = read_journal(path);
  ASSERT_TRUE(resumed.is_ok());
  EXPECT_FALSE(resumed->torn_tail);
  ASSERT_EQ(resumed->entries.size(), 3u);
  EXPECT_EQ(resumed->entries[2].seeds(0).seed(), 3u);
  std::remove(path.c_str());
}

TEST(Journal, ABadLineBeforeTheLastIsCorruptionNamingFileAndLine) {
  const std::string path = temp_path("corrupt.jsonl");
  write_text(
      path, to_json_line(one_seed(1, true)) + "\n{oops\n" + to_json_line(one_seed(2, true)) + "\n");
  Result<Journal> j = read_journal(path);
  ASSERT_FALSE(j.is_ok());
  EXPECT_NE(j.status().message().find(path + ":2:"), std::string::npos) << j.status().message();
  // A line holding two seeds is not a journal line either.
  proto::SwarmResult two = one_seed(1, true);
  *two.add_seeds() = one_seed(2, true).seeds(0);
  write_text(path, to_json_line(two) + "\n" + to_json_line(one_seed(3, true)) + "\n");
  EXPECT_FALSE(read_journal(path).is_ok());
  std::remove(path.c_str());
}

TEST(Merge, RefusesOtherBuildsScenariosAndRangesAndNamesTheFile) {
  proto::SwarmResult a = one_seed(1, true);
  proto::SwarmResult b = one_seed(2, true);
  b.set_build_id("build-b");
  Result<proto::SwarmResult> m = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("b.json: is from another build"), std::string::npos);

  b = one_seed(2, true);
  b.set_scenario_sha256("sha-b");
  m = merge_results({{"a.json", a}, {"b.json", b}});
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("another scenario file"), std::string::npos);

  b = one_seed(2, true);
  b.set_seed_last(11);
  EXPECT_FALSE(merge_results({{"a.json", a}, {"b.json", b}}).is_ok());

  b = one_seed(2, true);
  b.clear_build_id();
  EXPECT_FALSE(merge_results({{"a.json", a}, {"b.json", b}}).is_ok());
}

TEST(Merge, OneSeedWithTwoOutcomesIsRefusedTheSameOutcomeTwiceCountsOnce) {
  proto::SwarmResult a = one_seed(4, true, "aaaa");
  Result<proto::SwarmResult> same = merge_results({{"a", a}, {"again", a}});
  ASSERT_TRUE(same.is_ok());
  EXPECT_EQ(same->seeds_size(), 1);
  EXPECT_EQ(same->passed(), 1u);
  Result<proto::SwarmResult> other = merge_results({{"a", a}, {"b", one_seed(4, true, "bbbb")}});
  ASSERT_FALSE(other.is_ok());
  EXPECT_NE(other.status().message().find("seed 4"), std::string::npos);
}

TEST(Merge, CountsVerdictsAndListsMissingSeeds) {
  Result<proto::SwarmResult> m = merge_results(
      {{"x", one_seed(1, true)}, {"y", one_seed(5, false)}, {"z", one_seed(10, true)}});
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->passed(), 2u);
  EXPECT_EQ(m->failed(), 1u);
  EXPECT_EQ(std::vector<std::string>(m->missing_seeds().begin(), m->missing_seeds().end()),
            (std::vector<std::string>{"2..4", "6..9"}));
  EXPECT_EQ(m->build_id(), "build-a");
}

TEST(Junit, EscapesMarkupControlCharactersAndInvalidUtf8) {
  proto::SwarmResult r = one_seed(1, false);
  proto::SeedOutcome* s = r.mutable_seeds(0);
  s->set_exit_code(134);
  s->set_error("assert <a & b> \"q\" \x01 bad \xff\xfe utf8, ok \xc3\xa9");
  s->set_reproduce("replsim run s.textproto --seed 1");
  const std::string xml = junit_xml({r});
  EXPECT_NE(xml.find("&lt;a &amp; b&gt;"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find('\xff'), std::string::npos);
  EXPECT_NE(xml.find("ok \xc3\xa9"), std::string::npos);  // valid UTF-8 is kept
  EXPECT_NE(xml.find("<error message=\"exit 134\" type=\"crash\">"), std::string::npos);
  EXPECT_NE(xml.find("reproduce: replsim run s.textproto --seed 1"), std::string::npos);
}

}  // namespace
}  // namespace replsim::cli
