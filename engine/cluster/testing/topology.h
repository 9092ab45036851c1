// engine/cluster/testing/topology.h — a small simulated topology for engine tests and benches.
//
// One SimWorld; cluster 0 is meant to be the primary, clusters 1..N secondaries. Cluster c has
// node ids 100*(c+1)+i, cluster id c+1 and one shared SimDisk "cluster<c>". One client node
// (id 1, no disk) drives requests through an ApiClient. Links inside a cluster (and from the
// client) are LAN, between clusters WAN. The blocking helpers run the world until the answer
// arrives (bounded by virtual time).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/cluster/client.h"
#include "engine/cluster/node.h"
#include "sim/world.h"

namespace replsim::cluster::testkit {

struct TopologyOptions {
  uint64_t seed = 1;
  int clusters = 2;  // 1 primary + (clusters - 1) secondaries
  int nodes_per_cluster = 2;
  bool buggify = false;
  bool random_clocks = true;
  sim::LinkModel lan = sim::LinkModel::lan();
  sim::LinkModel wan = sim::LinkModel::wan();
  sim::DiskOptions disk;
  // cluster_id / cluster_nodes are filled in per cluster. Small simulations use a 256 x 16
  // merkle shape (a 16 MiB dense page file instead of 256 MiB).
  NodeConfig node = [] {
    NodeConfig c;
    c.merkle_sub_bits = 4;
    return c;
  }();
  NodeObserver* observer = nullptr;
};

class NodeProcess : public sim::Process {
 public:
  NodeProcess(Env& env, NodeConfig config, NodeObserver* observer) : node(env, std::move(config)) {
    node.set_observer(observer);
    node.start();
  }
  Node node;
};

class ClientProcess : public sim::Process {
 public:
  explicit ClientProcess(Env& env) : client(env) {}
  ApiClient client;
};

// `clusters` clusters (cluster 0 the primary) of `nodes` nodes each, from `seed`.
TopologyOptions topology_options(uint64_t seed, int clusters, int nodes);

class Topology {
 public:
  static constexpr NodeId kClient{1};
  explicit Topology(TopologyOptions options);

  sim::SimWorld& world() { return *world_; }
  NodeId node_id(int cluster, int i) const { return NodeId(100 * (cluster + 1) + i); }
  std::vector<NodeId> cluster_nodes(int cluster) const;
  Node* node(NodeId id);      // nullptr while down
  Node* active(int cluster);  // the active node, or nullptr
  NodeId active_id(int cluster);
  NodeId standby_id(int cluster);  // some live non-active node
  ApiClient& client();

  // Runs until pred() or `max_us` of virtual time passed; returns pred().
  bool run_until(const std::function<bool()>& pred, TimeUs max_us);
  proto::OperatorResponse op(NodeId to, proto::OperatorRequest req, TimeUs max_us = 30 * kUsPerSec);
  proto::ClientResponse call(NodeId to, proto::ClientRequest req, TimeUs max_us = 30 * kUsPerSec);

  // Enables the primary (cluster 0), creates user "alice"/"pw", activates every secondary and
  // waits for stream-wals. Returns false on any failure.
  bool setup_replication();
  std::string login(NodeId to, const std::string& user = "alice", const std::string& pw = "pw");
  proto::ClientResponse write(NodeId to, const std::string& token, const std::string& path,
                              const std::string& value);
  proto::ClientResponse read(NodeId to, const std::string& token, const std::string& path);
  // Sends a write without waiting (the caller runs the world); the answer lands in *out.
  // Returns the request id.
  uint64_t send_write(NodeId to, const std::string& token, const std::string& path,
                      const std::string& value, std::optional<proto::ClientResponse>* out);
  // Activates secondary cluster `c` with a fresh token from the primary cluster `p`.
  bool activate(int c, int p, bool update_primary);
  std::string state(int cluster);  // replication state of the active node ("" if none)

  const std::string& last_error() const { return last_error_; }

 private:
  bool fail(const std::string& step, const std::string& message);
  TopologyOptions options_;
  std::string last_error_;
  std::unique_ptr<sim::SimWorld> world_;
};

}  // namespace replsim::cluster::testkit
