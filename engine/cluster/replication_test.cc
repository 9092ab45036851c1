// Replication behaviours in simulation (issue 5): each test names the property it proves.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

TopologyOptions three_clusters(uint64_t seed) {
  TopologyOptions o;
  o.seed = seed;
  o.clusters = 3;
  o.nodes_per_cluster = 2;
  return o;
}

TEST(Replication, ActivationAndStreamingWithoutFaults) {
  Topology t(three_clusters(1));
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  ASSERT_FALSE(token.empty());
  for (int i = 0; i < 50; ++i) {
    auto r = t.write(t.node_id(0, 0), token, "kv/k" + std::to_string(i), "v" + std::to_string(i));
    ASSERT_EQ(r.error(), proto::OK) << r.error_message();
    EXPECT_GT(r.wal_index(), 0u);
    EXPECT_GT(r.index_state().epoch(), 0u);
  }
  ASSERT_TRUE(t.run_until([&] {
    auto p = t.active(0)->replicated_snapshot();
    for (int c = 1; c < 3; ++c) {
      if (t.active(c)->replicated_snapshot() != p) return false;
    }
    return true;
  }, 10 * kUsPerSec));
  auto snap = *t.active(1)->replicated_snapshot();
  EXPECT_EQ(snap.at("kv/k7"), "v7");
  for (int c = 1; c < 3; ++c) {
    EXPECT_EQ(t.active(c)->merkle_root_hex(), t.active(0)->merkle_root_hex());
    EXPECT_EQ(t.state(c), "stream-wals");
    auto s = t.active(c)->status();
    EXPECT_EQ(s.mode(), "secondary");
    EXPECT_EQ(s.last_remote_wal(), t.active(0)->last_wal().value);
  }
  auto ps = t.active(0)->status();
  EXPECT_EQ(ps.mode(), "primary");
  ASSERT_EQ(ps.known_secondaries_size(), 2);
  EXPECT_EQ(ps.known_secondaries(0).connection_status(), "connected");
  EXPECT_GT(ps.known_secondaries(0).last_heartbeat_us(), 0);
}

}  // namespace
}  // namespace replsim::cluster
