// Cluster behaviours in simulation: HA lock, fencing, forwarding, auth.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

TEST(Cluster, OneActiveNodePerCluster) {
  TopologyOptions o;
  o.clusters = 2;
  o.nodes_per_cluster = 3;
  Topology t(o);
  ASSERT_TRUE(t.run_until([&] { return t.active(0) && t.active(1); }, 10 * kUsPerSec));
  t.world().run_for(5 * kUsPerSec);
  for (int c = 0; c < 2; ++c) {
    int actives = 0;
    for (NodeId id : t.cluster_nodes(c)) actives += t.node(id)->is_active() ? 1 : 0;
    EXPECT_EQ(actives, 1);
  }
}

}  // namespace
}  // namespace replsim::cluster
