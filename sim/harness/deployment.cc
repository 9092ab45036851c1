// Building the simulated deployment: clusters of engine nodes on one disk each, LAN inside a
// cluster and WAN between clusters, clients and the operator on the LAN of the node they use;
// and the initial replication setup (enable primary, replicated user, activate secondaries).
#include <algorithm>

#include "proto/replication.pb.h"
#include "sim/harness/run_context.h"

namespace replsim::harness {

static sim::WorldOptions world_options(const ScenarioConfig& cfg, uint64_t seed) {
  sim::WorldOptions o;
  o.seed = seed;
  o.buggify = cfg.buggify;
  o.random_clocks = cfg.topology.clock.enabled;
  o.clock_offset_max_us = cfg.topology.clock.offset_max_us;
  o.clock_drift_max_ppm = cfg.topology.clock.drift_ppm_max;
  o.events_max = cfg.events_max;
  o.keep_events = cfg.keep_trace_events;
  o.repro_command = "replsim run <scenario> --seed={seed}  (scenario \"" + cfg.name + "\")";
  return o;
}

RunContext::RunContext(const ScenarioConfig& config, uint64_t s, RunObserver* o)
    : cfg(config), seed(s), observer(o), world(world_options(config, s)) {}

cluster::Node* RunContext::node(NodeId id) {
  auto* p = dynamic_cast<NodeProcess*>(world.process(id));
  return p == nullptr ? nullptr : &p->node;
}

// A former active node that resumes from a pause still has its in-memory "active" flag set
// until its next request re-reads the lock record and it steps down (the engine never serves
// from it: every request path calls check_active()). Two nodes may therefore claim to be
// active for an instant; the lock holder is the one with the newest lock generation.
cluster::Node* RunContext::active_node(uint32_t c) {
  cluster::Node* best = nullptr;
  for (NodeId id : cluster_nodes[c]) {
    cluster::Node* n = node(id);
    if (n == nullptr || world.paused(id) || !n->is_active()) continue;
    if (best == nullptr || n->lock_generation().value > best->lock_generation().value) best = n;
  }
  return best;
}

NodeId RunContext::route_node(uint32_t c) {
  if (cluster::Node* n = active_node(c)) return n->id();
  for (NodeId id : cluster_nodes[c]) {
    if (world.up(id)) return id;
  }
  return cluster_nodes[c][0];
}

ClientProcess* RunContext::client(NodeId id) {
  return dynamic_cast<ClientProcess*>(world.process(id));
}

int64_t RunContext::record(HistoryEvent e) {
  e.time_us = world.now();
  int64_t index = history->append(std::move(e));
  note_request(history->at(index));
  if (observer != nullptr) observer->on_history_event(history->at(index));
  return index;
}

void RunContext::record_fault(const std::string& kind, const std::string& target,
                              const std::string& detail, uint32_t node_id, uint32_t c) {
  HistoryEvent e;
  e.client = kNemesisClient;
  e.op_id = next_op_id++;
  e.type = EventType::kInfo;
  e.f = "fault:" + kind;
  e.node = node_id;
  e.cluster = c;
  e.detail = target + (detail.empty() ? "" : " " + detail);
  record(std::move(e));
  if (observer != nullptr) observer->on_fault({world.now(), kind, target, detail});
}

void build_deployment(RunContext& ctx) {
  const TopologyConfig& t = ctx.cfg.topology;
  REPLSIM_ASSERT(t.nodes_per_cluster >= 1 && t.nodes_per_cluster < kNodesPerClusterMax);
  ctx.clusters = t.secondary_clusters + 1;
  if (t.rogue_cluster) ctx.rogue = ctx.clusters;
  const uint32_t deployed = ctx.clusters + (t.rogue_cluster ? 1 : 0);
  REPLSIM_ASSERT(deployed <= kClustersMax);
  ctx.cluster_nodes.resize(deployed);
  for (uint32_t c = 0; c < deployed; ++c) {
    for (uint32_t j = 0; j < t.nodes_per_cluster; ++j) {
      NodeId id(kClusterNodeBase + c * kNodesPerClusterMax + j);
      ctx.cluster_nodes[c].push_back(id);
      ctx.cluster_of[id] = c;
    }
  }
  RunContext* p = &ctx;
  ctx.world.network().set_classifier([p](NodeId from, NodeId to) {
    auto a = p->cluster_of.find(from);
    auto b = p->cluster_of.find(to);
    bool wan = a != p->cluster_of.end() && b != p->cluster_of.end() && a->second != b->second;
    return wan ? p->cfg.topology.wan : p->cfg.topology.lan;
  });
  ctx.world.network().add_observer([p](NodeId from, NodeId to, const std::string& payload) {
    p->observe_wire(from, to, payload);
  });
  for (uint32_t c = 0; c < deployed; ++c) {
    std::string disk = "c" + std::to_string(c);
    ctx.world.add_disk(disk, t.disk);
    for (NodeId id : ctx.cluster_nodes[c]) {
      cluster::NodeConfig nc;
      nc.cluster_id = ClusterId(c);
      nc.cluster_nodes = ctx.cluster_nodes[c];
      ctx.world.add_node(id, disk, [p, nc](Env& env) {
        auto proc = std::make_unique<NodeProcess>(env, nc);
        proc->node.set_observer(p);
        proc->node.start();
        return proc;
      });
    }
  }
  auto boot_client = [](Env& env) { return std::make_unique<ClientProcess>(env); };
  ctx.world.add_node(NodeId(kOperatorNode), "", sim::ClockModel{}, boot_client);
  for (uint32_t i = 0; i < ctx.cfg.workload.clients; ++i) {
    ctx.world.add_node(NodeId(kClientNodeBase + i), "", sim::ClockModel{}, boot_client);
  }
}

// Runs the world until `done` or `timeout_us` passes. REQUIRES: not inside a loop callback.
static bool wait_for(RunContext& ctx, const std::function<bool()>& done, TimeUs timeout_us) {
  const TimeUs deadline = ctx.world.now() + timeout_us;
  ctx.world.run_while([&] { return !done() && ctx.world.now() <= deadline; });
  return done();
}

static bool call_and_wait(RunContext& ctx, const char* f, uint32_t c, proto::OperatorRequest req,
                          proto::OperatorResponse* out, std::string* error) {
  bool answered = false;
  operator_call(ctx, f, c, std::move(req), [&](const proto::OperatorResponse& r) {
    answered = true;
    *out = r;
  });
  if (!wait_for(
          ctx, [&] { return answered; }, 60 * kUsPerSec) ||
      out->error() != proto::OK) {
    *error = std::string("setup: ") + f + " on cluster " + std::to_string(c) +
             " failed: " + (answered ? out->error_message() : "no answer");
    return false;
  }
  return true;
}

bool setup_replication(RunContext& ctx, std::string* error) {
  for (uint32_t c = 0; c < ctx.cluster_nodes.size(); ++c) {
    if (!wait_for(
            ctx, [&] { return ctx.active_node(c) != nullptr; }, 30 * kUsPerSec)) {
      *error = "setup: cluster " + std::to_string(c) + " elected no active node in 30 s";
      return false;
    }
  }
  proto::OperatorRequest req;
  proto::OperatorResponse resp;
  req.mutable_enable_primary();
  if (!call_and_wait(ctx, "enable_primary", 0, req, &resp, error)) return false;
  ctx.max_epoch = resp.status().epoch();
  ctx.obs.epochs.push_back({ctx.world.now(), ctx.max_epoch, 0, 0, 0, true});
  req.Clear();
  req.mutable_create_user()->set_username("alice");
  req.mutable_create_user()->set_password("pw");
  if (!call_and_wait(ctx, "create_user", 0, req, &resp, error)) return false;
  for (uint32_t c = 1; c < ctx.clusters; ++c) {
    req.Clear();
    req.mutable_secondary_token()->set_id("c" + std::to_string(c));
    if (!call_and_wait(ctx, "secondary_token", 0, req, &resp, error)) return false;
    std::string token = resp.token();
    req.Clear();
    req.mutable_enable_secondary()->set_token(token);
    if (!call_and_wait(ctx, "enable_secondary", c, req, &resp, error)) return false;
    ctx.setup_token = token;
  }
  return true;
}

}  // namespace replsim::harness
