#include "engine/cluster/testing/topology.h"

#include <cstdio>

namespace replsim::cluster::testkit {

bool Topology::fail(const std::string& step, const std::string& message) {
  last_error_ = step + ": " + message;
  std::fprintf(stderr, "topology: %s\n", last_error_.c_str());
  return false;
}

Topology::Topology(TopologyOptions options) : options_(std::move(options)) {
  sim::WorldOptions wo;
  wo.seed = options_.seed;
  wo.buggify = options_.buggify;
  wo.random_clocks = options_.random_clocks;
  world_ = std::make_unique<sim::SimWorld>(wo);
  world_->network().set_classifier([this](NodeId a, NodeId b) {
    if (a.value < 100 || b.value < 100) return options_.lan;
    return a.value / 100 == b.value / 100 ? options_.lan : options_.wan;
  });
  for (int c = 0; c < options_.clusters; ++c) {
    std::string disk = "cluster" + std::to_string(c);
    world_->add_disk(disk, options_.disk);
    NodeConfig config = options_.node;
    config.cluster_id = ClusterId(c + 1);
    config.cluster_nodes = cluster_nodes(c);
    for (NodeId id : config.cluster_nodes) {
      NodeObserver* observer = options_.observer;
      world_->add_node(id, disk, [config, observer](Env& env) {
        return std::make_unique<NodeProcess>(env, config, observer);
      });
    }
  }
  world_->add_node(kClient, "", [](Env& env) { return std::make_unique<ClientProcess>(env); });
}

std::vector<NodeId> Topology::cluster_nodes(int cluster) const {
  std::vector<NodeId> out;
  for (int i = 0; i < options_.nodes_per_cluster; ++i) out.push_back(node_id(cluster, i));
  return out;
}

Node* Topology::node(NodeId id) {
  auto* p = dynamic_cast<NodeProcess*>(world_->process(id));
  return p ? &p->node : nullptr;
}

Node* Topology::active(int cluster) {
  for (NodeId id : cluster_nodes(cluster)) {
    Node* n = node(id);
    if (n && n->is_active() && !world_->paused(id)) return n;
  }
  return nullptr;
}

NodeId Topology::active_id(int cluster) {
  Node* n = active(cluster);
  return n ? n->id() : NodeId();
}

NodeId Topology::standby_id(int cluster) {
  for (NodeId id : cluster_nodes(cluster)) {
    Node* n = node(id);
    if (n && !n->is_active()) return id;
  }
  return NodeId();
}

ApiClient& Topology::client() {
  return dynamic_cast<ClientProcess*>(world_->process(kClient))->client;
}

bool Topology::run_until(const std::function<bool()>& pred, TimeUs max_us) {
  TimeUs end = world_->now() + max_us;
  world_->run_while([&] { return !pred() && world_->now() < end; });
  return pred();
}

proto::OperatorResponse Topology::op(NodeId to, proto::OperatorRequest req, TimeUs max_us) {
  std::optional<proto::OperatorResponse> out;
  client().send_operator(
      to, std::move(req), [&](const proto::OperatorResponse& r) { out = r; }, max_us);
  run_until([&] { return out.has_value(); }, max_us + kUsPerSec);
  return out.value_or(proto::OperatorResponse());
}

proto::ClientResponse Topology::call(NodeId to, proto::ClientRequest req, TimeUs max_us) {
  std::optional<proto::ClientResponse> out;
  client().send(
      to, std::move(req), [&](const proto::ClientResponse& r) { out = r; }, max_us);
  run_until([&] { return out.has_value(); }, max_us + kUsPerSec);
  return out.value_or(proto::ClientResponse());
}

std::string Topology::state(int cluster) {
  Node* n = active(cluster);
  return n ? n->status().state() : "";
}

bool Topology::activate(int c, int p, bool update_primary) {
  proto::OperatorRequest t;
  t.mutable_secondary_token()->set_id("secondary-" + std::to_string(c));
  auto tr = op(node_id(p, 0), t);
  if (tr.error() != proto::OK) return fail("secondary token", tr.error_message());
  proto::OperatorRequest e;
  if (update_primary) {
    e.mutable_update_primary()->set_token(tr.token());
  } else {
    e.mutable_enable_secondary()->set_token(tr.token());
  }
  auto er = op(node_id(c, 0), e);
  if (er.error() != proto::OK) return fail("enable secondary", er.error_message());
  if (!run_until([&] { return state(c) == "stream-wals"; }, 60 * kUsPerSec)) {
    return fail("stream-wals", "cluster " + std::to_string(c) + " state " + state(c));
  }
  return true;
}

bool Topology::setup_replication() {
  if (!run_until(
          [&] {
            for (int c = 0; c < options_.clusters; ++c) {
              if (!active(c)) return false;
            }
            return true;
          },
          30 * kUsPerSec)) {
    return false;
  }
  proto::OperatorRequest ep;
  ep.mutable_enable_primary();
  auto epr = op(node_id(0, 0), ep);
  if (epr.error() != proto::OK) return fail("enable primary", epr.error_message());
  proto::OperatorRequest cu;
  cu.mutable_create_user()->set_username("alice");
  cu.mutable_create_user()->set_password("pw");
  auto cur = op(node_id(0, 0), cu);
  if (cur.error() != proto::OK) return fail("create user", cur.error_message());
  for (int c = 1; c < options_.clusters; ++c) {
    if (!activate(c, 0, false)) return false;
  }
  return true;
}

std::string Topology::login(NodeId to, const std::string& user, const std::string& pw) {
  proto::ClientRequest r;
  r.mutable_login()->set_username(user);
  r.mutable_login()->set_password(pw);
  auto resp = call(to, r);
  return resp.token();
}

proto::ClientResponse Topology::write(NodeId to, const std::string& token, const std::string& path,
                                      const std::string& value) {
  proto::ClientRequest r;
  r.set_token(token);
  r.mutable_write()->set_path(path);
  r.mutable_write()->set_value(value);
  return call(to, r);
}

uint64_t Topology::send_write(NodeId to, const std::string& token, const std::string& path,
                              const std::string& value, std::optional<proto::ClientResponse>* out) {
  proto::ClientRequest w;
  w.set_token(token);
  w.mutable_write()->set_path(path);
  w.mutable_write()->set_value(value);
  return client().send(
      to, w, [out](const proto::ClientResponse& r) { *out = r; }, 30 * kUsPerSec);
}

TopologyOptions topology_options(uint64_t seed, int clusters, int nodes) {
  TopologyOptions o;
  o.seed = seed;
  o.clusters = clusters;
  o.nodes_per_cluster = nodes;
  return o;
}

proto::ClientResponse Topology::read(NodeId to, const std::string& token, const std::string& path) {
  proto::ClientRequest r;
  r.set_token(token);
  r.mutable_read()->set_path(path);
  return call(to, r);
}

}  // namespace replsim::cluster::testkit
