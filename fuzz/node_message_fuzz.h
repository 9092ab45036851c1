// Shared by node_message_fuzz.cc and the seed generator: the small world every node_message
// input is fed to, and the input format.
//
// World: engine/cluster/testing's Topology with two clusters of two nodes, replication set up:
// cluster 0 is the primary (an active node and a standby), cluster 1 a secondary (likewise).
// Input: {u8 to, u8 from, u16 length, bytes}*: `bytes` (normally a serialized NodeEnvelope)
// is put on the simulated network from node kSenders[from % 6] to node kTargets[to % 4].
#pragma once

#include <memory>
#include <string>

#include "engine/cluster/testing/topology.h"

namespace replsim::fuzz {

inline constexpr NodeId kNodeTargets[] = {NodeId(100), NodeId(101), NodeId(200), NodeId(201)};
// The four nodes, the client, and a node nobody knows.
inline constexpr NodeId kNodeSenders[] = {NodeId(100), NodeId(101), NodeId(200),
                                          NodeId(201), NodeId(1),   NodeId(999)};

inline std::unique_ptr<cluster::testkit::Topology> make_fuzz_world(uint64_t seed) {
  auto world = std::make_unique<cluster::testkit::Topology>(
      cluster::testkit::topology_options(seed, /*clusters=*/2, /*nodes=*/2));
  if (!world->setup_replication()) return nullptr;
  return world;
}

}  // namespace replsim::fuzz
