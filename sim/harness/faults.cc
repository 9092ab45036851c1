// The fault injector: timed and random faults of every kind of docs/design.md §3, each recorded in
// the History (nemesis events) and, by the world, in the FaultRecorder. Each fault with a
// duration schedules its own undo; whatever is still in force when the liveness phase starts
// is undone by heal_everything().
#include <algorithm>

#include "sim/harness/run_context.h"

namespace replsim::harness {

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kPartitionOneWay:
      return "partition_one_way";
    case FaultKind::kIsolateNode:
      return "isolate_node";
    case FaultKind::kSplitClusters:
      return "split_clusters";
    case FaultKind::kFlappingLink:
      return "flapping_link";
    case FaultKind::kLinkDegrade:
      return "link_degrade";
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kPowerLoss:
      return "power_loss";
    case FaultKind::kClockJump:
      return "clock_jump";
    case FaultKind::kClockDrift:
      return "clock_drift";
    case FaultKind::kFsyncFailure:
      return "fsync_failure";
    case FaultKind::kSectorError:
      return "sector_error";
    case FaultKind::kBitRot:
      return "bit_rot";
    case FaultKind::kMisdirectedWrite:
      return "misdirected_write";
    case FaultKind::kDiskFull:
      return "disk_full";
    case FaultKind::kHealAll:
      return "heal_all";
  }
  return "?";
}

namespace {

NodeId resolve(RunContext& ctx, int32_t cluster, int32_t node) {
  uint32_t c = static_cast<uint32_t>(std::max(cluster, 0)) % ctx.clusters;
  if (node < 0) return ctx.route_node(c);
  return ctx.cluster_nodes[c][static_cast<uint32_t>(node) % ctx.cluster_nodes[c].size()];
}

std::string disk_of(uint32_t c) { return "c" + std::to_string(c); }

// Registers `fn` as the undo of a fault and runs it after `duration_us` (if > 0).
void with_undo(RunContext& ctx, TimeUs duration_us, std::function<void()> fn) {
  uint64_t id = ctx.next_undo++;
  ctx.undo[id] = std::move(fn);
  if (duration_us <= 0) return;
  RunContext* p = &ctx;
  ctx.world.loop().after(duration_us, [p, id] {
    auto it = p->undo.find(id);
    if (it == p->undo.end()) return;
    auto fn = std::move(it->second);
    p->undo.erase(it);
    fn();
  });
}

void restart_if_down(RunContext& ctx, NodeId id) {
  if (!ctx.world.up(id)) ctx.world.restart(id);
}

// A random stored file of a cluster's disk and an offset inside it; false when none.
bool pick_file(RunContext& ctx, uint32_t c, std::string* path, uint64_t* offset) {
  sim::SimDisk& d = ctx.world.disk(disk_of(c));
  std::vector<std::string> files = d.file_names();
  if (files.empty()) return false;
  *path = files[ctx.world.random().uniform(files.size())];
  uint64_t size = d.cached_contents(*path).size();
  if (size == 0) return false;
  *offset = ctx.world.random().uniform(size);
  return true;
}

void inject_network(RunContext& ctx, const FaultSpec& f, NodeId a, NodeId b, uint32_t c) {
  sim::Network& net = ctx.world.network();
  RunContext* p = &ctx;
  switch (f.kind) {
    case FaultKind::kPartition:
      net.partition(a, b);
      with_undo(ctx, f.duration_us, [p, a, b] { p->world.network().heal(a, b); });
      return;
    case FaultKind::kPartitionOneWay:
      net.block(a, b);
      with_undo(ctx, f.duration_us, [p, a, b] { p->world.network().heal(a, b); });
      return;
    case FaultKind::kIsolateNode:
      net.isolate(a);
      with_undo(ctx, f.duration_us, [p, a] {
        for (NodeId other : p->world.nodes()) p->world.network().heal(a, other);
      });
      return;
    case FaultKind::kSplitClusters: {
      std::vector<NodeId> inside = ctx.cluster_nodes[c];
      std::vector<NodeId> outside;
      for (uint32_t o = 0; o < ctx.clusters; ++o) {
        if (o != c)
          outside.insert(outside.end(), ctx.cluster_nodes[o].begin(), ctx.cluster_nodes[o].end());
      }
      net.split({inside, outside});
      with_undo(ctx, f.duration_us, [p, inside, outside] {
        for (NodeId x : inside) {
          for (NodeId y : outside) p->world.network().heal(x, y);
        }
      });
      return;
    }
    case FaultKind::kFlappingLink:
      net.flapping(a, b, std::max<TimeUs>(f.period_us, 1000), ctx.world.now() + f.duration_us);
      with_undo(ctx, 0, [p, a, b] { p->world.network().heal(a, b); });
      return;
    default: {  // kLinkDegrade: every WAN link between the two clusters
      uint32_t c2 = static_cast<uint32_t>(std::max(f.target.cluster2, 0)) % ctx.clusters;
      if (c2 == c) return;
      sim::LinkModel bad = ctx.cfg.topology.wan;
      double q = std::clamp(f.magnitude > 0 ? f.magnitude : 0.2, 0.0, 0.5);
      bad.drop_probability = q;
      bad.duplicate_probability = q;
      bad.reorder_probability = q;
      std::vector<NodeId> xs = ctx.cluster_nodes[c];
      std::vector<NodeId> ys = ctx.cluster_nodes[c2];
      for (NodeId x : xs) {
        for (NodeId y : ys) net.set_link_model(x, y, bad);
      }
      with_undo(ctx, f.duration_us, [p, xs, ys] {
        for (NodeId x : xs) {
          for (NodeId y : ys) p->world.network().set_link_model(x, y, p->cfg.topology.wan);
        }
      });
    }
  }
}

std::string detail_text(const FaultSpec& f) {
  std::string s = "duration_us=" + std::to_string(f.duration_us);
  if (f.magnitude != 0) s += " magnitude=" + std::to_string(f.magnitude);
  if (f.kind == FaultKind::kFlappingLink) s += " period_us=" + std::to_string(f.period_us);
  if (f.kind == FaultKind::kFsyncFailure) s += " count=" + std::to_string(f.count);
  return s;
}

// The storage faults of `inject`: false when there is nothing to aim at (no file yet).
bool inject_disk(RunContext& ctx, const FaultSpec& f, uint32_t c, std::string* target) {
  RunContext* p = &ctx;
  switch (f.kind) {
    case FaultKind::kFsyncFailure:
      *target = "disk " + disk_of(c);
      ctx.world.disk(disk_of(c)).fail_next_syncs(std::max(f.count, 1));
      return true;
    case FaultKind::kSectorError:
    case FaultKind::kBitRot: {
      std::string path;
      uint64_t offset = 0;
      if (!pick_file(ctx, c, &path, &offset)) return false;
      *target = "disk " + disk_of(c) + " " + path + "@" + std::to_string(offset);
      if (f.kind == FaultKind::kSectorError) {
        ctx.world.disk(disk_of(c)).inject_sector_error(path, offset);
      } else {
        ctx.world.disk(disk_of(c)).inject_bit_rot(path, offset);
      }
      return true;
    }
    case FaultKind::kMisdirectedWrite: {
      *target = "disk " + disk_of(c);
      sim::SimDisk& d = ctx.world.disk(disk_of(c));
      double before = d.options().misdirected_write_probability;
      d.options().misdirected_write_probability = f.magnitude > 0 ? f.magnitude : 0.01;
      with_undo(ctx, f.duration_us, [p, c, before] {
        p->world.disk(disk_of(c)).options().misdirected_write_probability = before;
      });
      return true;
    }
    case FaultKind::kDiskFull: {
      *target = "disk " + disk_of(c);
      sim::SimDisk& d = ctx.world.disk(disk_of(c));
      // Overlapping disk-full faults: the capacity from before the first one comes back when
      // the last one ends (restoring each fault's own "before" would leave the disk capped
      // forever when the undos run in a different order than the faults).
      auto& in_force = ctx.disk_full_in_force[c];
      if (in_force.first++ == 0) in_force.second = d.options().capacity_bytes;
      d.set_capacity(d.used_bytes());
      with_undo(ctx, f.duration_us, [p, c] {
        auto& f = p->disk_full_in_force[c];
        if (--f.first == 0) p->world.disk(disk_of(c)).set_capacity(f.second);
      });
      return true;
    }
    default:
      REPLSIM_ASSERT_MSG(false, "not a storage fault");
      return false;
  }
}

void inject(RunContext& ctx, const FaultSpec& f) {
  const uint32_t c = static_cast<uint32_t>(std::max(f.target.cluster, 0)) % ctx.clusters;
  NodeId a = resolve(ctx, f.target.cluster, f.target.node);
  NodeId b = resolve(ctx, f.target.cluster2, f.target.node2);
  RunContext* p = &ctx;
  std::string target = "node " + std::to_string(a.value);
  switch (f.kind) {
    case FaultKind::kPartition:
    case FaultKind::kPartitionOneWay:
    case FaultKind::kIsolateNode:
    case FaultKind::kSplitClusters:
    case FaultKind::kFlappingLink:
    case FaultKind::kLinkDegrade:
      if (a == b && f.kind != FaultKind::kIsolateNode && f.kind != FaultKind::kSplitClusters &&
          f.kind != FaultKind::kLinkDegrade) {
        return;
      }
      target = sim::link_name(a, b);
      inject_network(ctx, f, a, b, c);
      break;
    case FaultKind::kCrash:
      if (!ctx.world.up(a)) return;
      ctx.world.crash(a);
      ctx.last_fault[c] = {"crash", ctx.world.now()};
      with_undo(ctx, f.duration_us, [p, a] { restart_if_down(*p, a); });
      break;
    case FaultKind::kPause:
      if (!ctx.world.up(a) || ctx.world.paused(a)) return;
      ctx.world.pause(a);
      ctx.last_fault[c] = {"pause", ctx.world.now()};
      with_undo(ctx, f.duration_us, [p, a] {
        if (p->world.up(a) && p->world.paused(a)) p->world.resume(a);
      });
      break;
    case FaultKind::kPowerLoss: {
      target = "cluster " + std::to_string(c);
      ctx.world.power_loss(disk_of(c));
      ctx.last_fault[c] = {"power_loss", ctx.world.now()};
      std::vector<NodeId> nodes = ctx.cluster_nodes[c];
      with_undo(ctx, std::max<TimeUs>(f.duration_us, 1), [p, nodes] {
        for (NodeId id : nodes) restart_if_down(*p, id);
      });
      break;
    }
    case FaultKind::kClockJump:
      ctx.world.bump_clock(a, static_cast<TimeUs>(f.magnitude));
      break;
    case FaultKind::kClockDrift: {
      // Extra drift of `magnitude` ppm for duration_us, as a bump every 100 ms.
      const TimeUs step_us = 100'000;
      const TimeUs bump = static_cast<TimeUs>(f.magnitude * step_us / 1e6);
      const int steps = static_cast<int>(std::max<TimeUs>(f.duration_us, step_us) / step_us);
      for (int i = 1; i <= steps && bump != 0; ++i) {
        ctx.world.loop().after(i * step_us, [p, a, bump] {
          if (!p->writes_stopped) p->world.bump_clock(a, bump);
        });
      }
      break;
    }
    case FaultKind::kFsyncFailure:
    case FaultKind::kSectorError:
    case FaultKind::kBitRot:
    case FaultKind::kMisdirectedWrite:
    case FaultKind::kDiskFull:
      if (!inject_disk(ctx, f, c, &target)) return;
      break;
    case FaultKind::kHealAll:
      target = "network";
      ctx.world.network().heal_all();
      break;
  }
  ctx.record_fault(fault_kind_name(f.kind), target, detail_text(f), a.value, c);
}

}  // namespace

std::vector<FaultKind> regime_fault_kinds(FaultRegime regime) {
  std::vector<FaultKind> kinds = {
      FaultKind::kPartition,     FaultKind::kPartitionOneWay, FaultKind::kIsolateNode,
      FaultKind::kSplitClusters, FaultKind::kFlappingLink,    FaultKind::kLinkDegrade,
      FaultKind::kCrash,         FaultKind::kPause,           FaultKind::kPowerLoss,
      FaultKind::kClockJump,     FaultKind::kClockDrift,      FaultKind::kDiskFull};
  if (regime == FaultRegime::kUnbounded) {
    kinds.insert(kinds.end(), {FaultKind::kFsyncFailure, FaultKind::kSectorError,
                               FaultKind::kBitRot, FaultKind::kMisdirectedWrite});
  }
  return kinds;
}

FaultSpec random_fault(sim::Prng& r, const std::vector<FaultKind>& kinds, uint32_t clusters,
                       uint32_t nodes_per_cluster, TimeUs at_us, TimeUs duration_mean_us) {
  FaultSpec f;
  f.at_us = at_us;
  f.kind = kinds[r.uniform(kinds.size())];
  f.target.cluster = static_cast<int32_t>(r.uniform(clusters));
  f.target.node = r.bernoulli(0.5) ? -1 : static_cast<int32_t>(r.uniform(nodes_per_cluster));
  f.target.cluster2 = static_cast<int32_t>(r.uniform(clusters));
  f.target.node2 = r.bernoulli(0.5) ? -1 : static_cast<int32_t>(r.uniform(nodes_per_cluster));
  f.duration_us = static_cast<TimeUs>(r.exponential(static_cast<double>(duration_mean_us))) + 1;
  f.period_us = 50'000 + static_cast<TimeUs>(r.uniform(400'000));
  switch (f.kind) {
    case FaultKind::kClockJump:
      f.magnitude = static_cast<double>(r.uniform_range(-2'000'000, 2'000'000));
      break;
    case FaultKind::kClockDrift:
      f.magnitude = static_cast<double>(r.uniform_range(-20'000, 20'000));
      break;
    case FaultKind::kLinkDegrade:
      f.magnitude = 0.3 * r.uniform_double();
      break;
    case FaultKind::kMisdirectedWrite:
      f.magnitude = 0.05 * r.uniform_double();
      break;
    default:
      break;
  }
  f.count = 1 + static_cast<int32_t>(r.uniform(3));
  return f;
}

void schedule_faults(RunContext& ctx, TimeUs start_us, TimeUs safety_end_us) {
  RunContext* p = &ctx;
  for (const FaultSpec& f : ctx.cfg.faults) {
    if (start_us + f.at_us >= safety_end_us) continue;
    ctx.world.loop().at(start_us + f.at_us, [p, f] { inject(*p, f); });
  }
  const RandomFaults& rf = ctx.cfg.random_faults;
  if (!rf.enabled || rf.faults_per_sec <= 0) return;
  sim::Prng r = ctx.world.random().child("faults");
  std::vector<FaultKind> kinds = rf.kinds.empty() ? regime_fault_kinds(ctx.cfg.regime) : rf.kinds;
  TimeUs t = ctx.world.now();
  while (true) {
    t += static_cast<TimeUs>(r.exponential(1e6 / rf.faults_per_sec)) + 1;
    if (t >= safety_end_us) break;
    FaultSpec f = random_fault(r, kinds, ctx.clusters, ctx.cfg.topology.nodes_per_cluster, t,
                               rf.duration_mean_us);
    ctx.world.loop().at(t, [p, f] { inject(*p, f); });
  }
}

void heal_everything(RunContext& ctx) {
  auto undo = std::move(ctx.undo);
  ctx.undo.clear();
  for (auto& [id, fn] : undo) fn();
  ctx.world.network().heal_all();
  for (NodeId id : ctx.world.nodes()) {
    if (!ctx.world.up(id)) {
      ctx.world.restart(id);
    } else if (ctx.world.paused(id)) {
      ctx.world.resume(id);
    }
  }
  ctx.record_fault("heal_all", "everything", "liveness phase", 0, 0);
}

}  // namespace replsim::harness
