#include "scenarios/scenario_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace replsim::scenarios {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ScenarioFile, EveryLibraryScenarioParsesValidatesAndDescribesItself) {
  std::vector<std::string> files = list_scenario_files(REPLSIM_SCENARIO_DIR);
  ASSERT_GE(files.size(), 12u);
  for (const std::string& file : files) {
    Result<proto::Scenario> scenario = load_scenario(file);
    ASSERT_TRUE(scenario.is_ok()) << scenario.status().to_string();
    EXPECT_FALSE(scenario->name().empty()) << file;
    EXPECT_GT(total_duration_s(*scenario), 0) << file;
    EXPECT_GT(one_line_description(read_text(file)).size(), 20u) << file << " needs a comment";
  }
}

TEST(ScenarioFile, LibraryHoldsTheScenariosTheIssueNames) {
  for (const char* name :
       {"multi_dc", "backup_site_failover", "scale_reads", "partition_heal", "power_loss_primary",
        "crash_during_recovery", "secondary_far_behind", "merkle_sync_under_load",
        "clock_skew_leases", "rogue_secondary", "disk_full", "standby_forwarding"}) {
    std::string path = std::string(REPLSIM_SCENARIO_DIR) + "/" + name + ".textproto";
    EXPECT_TRUE(std::filesystem::exists(path)) << path;
  }
}

TEST(ScenarioFile, StandardScenarioMatchesDesign) {
  Result<proto::Scenario> s =
      load_scenario(std::string(REPLSIM_SCENARIO_DIR) + "/multi_dc.textproto");
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  ASSERT_EQ(s->topology().clusters_size(), 3);
  EXPECT_EQ(s->topology().nodes_per_cluster(), 3u);
  EXPECT_EQ(s->topology().clusters(0).role(), proto::PRIMARY);
  // Mean one-way latency = minimum + mean of the exponential tail.
  EXPECT_EQ(s->wan().latency().min_ms() + s->wan().latency().tail_mean_ms(), 30);
  EXPECT_EQ(s->lan().latency().min_ms() + s->lan().latency().tail_mean_ms(), 0.5);
  EXPECT_EQ(s->disk().fsync_latency_ms(), 1);
  EXPECT_EQ(s->workload().writes_per_sec(), 500);
  EXPECT_EQ(s->workload().reads_per_sec(), 2000);
  EXPECT_EQ(s->workload().keys(), 10000u);
  EXPECT_EQ(s->workload().value_bytes(), 256u);
  EXPECT_EQ(total_duration_s(*s), 120);
  int partitions = 0, crashes = 0, power_losses = 0;
  for (const proto::TimedFault& f : s->faults().timed()) {
    partitions += f.kind() == proto::SPLIT_CLUSTERS;
    crashes += f.kind() == proto::CRASH;
    power_losses += f.kind() == proto::POWER_LOSS;
  }
  EXPECT_EQ(partitions, 1);
  EXPECT_EQ(crashes, 1);
  EXPECT_EQ(power_losses, 1);
}

TEST(ScenarioFile, UnknownFieldNamesFileLineColumnAndField) {
  const std::string text =
      "topology { clusters { name: \"a\" role: PRIMARY } }\n"
      "phases { safety_s: 1 }\n"
      "workload {\n"
      "  rate: 5\n"
      "}\n";
  Result<proto::Scenario> s = parse_scenario(text, "bad.textproto");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("bad.textproto:4:"), std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("rate"), std::string::npos) << s.status().message();
}

TEST(ScenarioFile, WrongValueTypeNamesTheField) {
  const std::string text =
      "topology { clusters { name: \"a\" role: PRIMARY } }\n"
      "phases { safety_s: 1 }\n"
      "workload { writes_per_sec: \"fast\" }\n";
  Result<proto::Scenario> s = parse_scenario(text, "bad.textproto");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("bad.textproto:3:"), std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("writes_per_sec"), std::string::npos) << s.status().message();
}

TEST(ScenarioFile, NegativeRateIsRefusedNamingTheField) {
  const std::string text =
      "topology { clusters { name: \"a\" role: PRIMARY } }\n"
      "phases { safety_s: 1 }\n"
      "workload { writes_per_sec: -5 keys: 10 }\n";
  Result<proto::Scenario> s = parse_scenario(text, "neg.textproto");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("neg.textproto: workload.writes_per_sec: must be >= 0"),
            std::string::npos)
      << s.status().message();
}

TEST(ScenarioFile, FaultAimedAtUnknownClusterIsRefused) {
  const std::string text =
      "topology { clusters { name: \"a\" role: PRIMARY } }\n"
      "phases { safety_s: 10 }\n"
      "faults { timed { at_s: 1 kind: CRASH target { cluster: \"nope\" } }\n"
      "         timed { at_s: 2 kind: SPLIT_CLUSTERS target { cluster: \"a\" } } }\n";
  Result<proto::Scenario> s = parse_scenario(text, "f.textproto");
  ASSERT_FALSE(s.is_ok());
  const std::string& m = s.status().message();
  EXPECT_NE(m.find("faults.timed[0].target.cluster: no cluster named \"nope\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("faults.timed[1].other.cluster: no cluster named \"\""), std::string::npos) << m;
}

TEST(ScenarioFile, RogueClusterIsOnlyForRogueJoins) {
  const std::string text =
      "topology { clusters { name: \"a\" role: PRIMARY } clusters { name: \"r\" role: ROGUE }\n"
      "           clusters { name: \"s\" role: ROGUE } }\n"
      "phases { safety_s: 10 }\n"
      "faults { timed { at_s: 1 kind: CRASH target { cluster: \"r\" } } }\n"
      "operator_actions { at_s: 2 kind: ROGUE_JOIN cluster: \"a\" }\n"
      "operator_actions { at_s: 3 kind: ROGUE_JOIN cluster: \"s\" }\n";
  Result<proto::Scenario> s = parse_scenario(text, "r.textproto");
  ASSERT_FALSE(s.is_ok());
  const std::string& m = s.status().message();
  EXPECT_NE(m.find("topology.clusters[2].role: at most one ROGUE"), std::string::npos) << m;
  // The rogue is no part of the replication topology: faults cannot aim at it.
  EXPECT_NE(m.find("faults.timed[0].target.cluster: no cluster named \"r\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("operator_actions[0].cluster: ROGUE_JOIN names the topology's ROGUE"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("operator_actions[1].cluster"), std::string::npos) << m;
}

TEST(ScenarioFile, DefaultsAreFilledIn) {
  Result<proto::Scenario> s = parse_scenario(
      "topology { clusters { name: \"a\" role: PRIMARY } }\nphases { safety_s: 1 }\n",
      "dir/small.textproto");
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->name(), "small");
  EXPECT_EQ(s->topology().nodes_per_cluster(), 3u);
  EXPECT_EQ(s->workload().clients(), 8u);
  EXPECT_EQ(s->phases().convergence_bound_s(), 30);
  EXPECT_EQ(s->lan().queue_messages_max(), 1024u);
}

TEST(ScenarioFile, LeadingCommentGivesTheDescription) {
  const std::string text = "# Shows one thing. And more.\n# Second line.\nseed: 3\n";
  EXPECT_EQ(leading_comment(text), "Shows one thing. And more. Second line.");
  EXPECT_EQ(one_line_description(text), "Shows one thing.");
}

TEST(ScenarioFile, MissingFileIsNotFound) {
  Result<proto::Scenario> s = load_scenario("/nonexistent/x.textproto");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace replsim::scenarios
