// What the runner records besides the History: engine positions and recoveries (NodeObserver),
// periodic snapshots, lag and state intervals, and what crosses the wire (replication messages,
// their bounds, a scan for plaintext).
#include <algorithm>

#include "engine/storage/store.h"
#include "proto/replication.pb.h"
#include "sim/harness/run_context.h"

namespace replsim::harness {

// Whether the promotion that made cluster `c` a primary was planned (the old primary demoted
// and caught up first).
static bool planned(const RunContext& ctx, uint32_t c) {
  auto it = ctx.planned_promotion.find(c);
  return it != ctx.planned_promotion.end() && it->second;
}

void RunContext::on_wal_committed(NodeId n, Epoch epoch, WalIndex index) {
  const uint32_t c = cluster_of[n];
  obs.positions.push_back({world.now(), c, n.value, true, epoch.value, index.value});
  note_commit_time(epoch, index);
  // A primary may commit (and be demoted) before any sample sees it: its epoch starts here at
  // the latest, forked where the cluster's storage was.
  epoch_log.on_primary(world.now(), c, epoch.value, 0, planned(*this, c), &obs.epochs);
  epoch_log.on_commit(c, epoch.value, index.value);
  max_epoch = std::max(max_epoch, epoch.value);
}

void RunContext::on_wal_applied(NodeId n, Epoch epoch, WalIndex index) {
  uint32_t c = cluster_of[n];
  const cluster::Node* holder = active_node(c);
  const bool lock_holder = holder == nullptr || holder->id() == n;
  obs.positions.push_back({world.now(), c, n.value, false, epoch.value, index.value, lock_holder});
  note_apply_lag(c, epoch, index);
  auto& a = applied[c];
  if (epoch.value > a.first || (epoch.value == a.first && index.value > a.second)) {
    a = {epoch.value, index.value};
  }
  // Applies of the parent epoch still in flight when this cluster was promoted land in its
  // storage before any write of the new epoch (commits are FIFO), so the new epoch forks
  // after them (EpochLog::on_apply). A deposed node's late report is no position.
  if (lock_holder) epoch_log.on_apply(c, epoch.value, index.value, &obs.epochs);
}

void RunContext::on_state(NodeId n, const std::string& state) {
  note_state(cluster_of[n], state, world.now());
  obs.state_changes.push_back({world.now(), cluster_of[n], n.value, state});
}

// Merkle-sync fetched the primary's current values of the keys that differed, whatever
// index the primary was at, while the rest of the state stays at `guard`: the state is a
// prefix state again only once streaming has applied every entry the primary had committed
// when the sync finished. Until then its snapshots are marked "catching-up" (not settled).
void RunContext::on_reconciled(NodeId n, Epoch epoch, WalIndex guard) {
  uint64_t head = guard.value;
  for (auto it = obs.positions.rbegin(); it != obs.positions.rend(); ++it) {
    if (it->committed && it->epoch == epoch.value) head = std::max(head, it->index);
    if (it->committed && it->epoch < epoch.value) break;
  }
  const uint32_t c = cluster_of[n];
  catching_up[c] = {epoch.value, head};
  obs.reconciliations.push_back({world.now(), c, n.value, false, epoch.value, guard.value});
  epoch_log.on_apply(c, epoch.value, guard.value, &obs.epochs);
  // The sync established the position `guard` without per-entry on_wal_applied calls: a
  // promotion right after it forks the lineage there (not at an older applied index).
  auto& a = applied[c];
  if (epoch.value > a.first || (epoch.value == a.first && guard.value > a.second)) {
    a = {epoch.value, guard.value};
  }
}

void RunContext::note_state(uint32_t c, const std::string& state, TimeUs t) {
  auto it = state_now.find(c);
  if (it != state_now.end() && it->second == state) return;
  if (it != state_now.end()) result.states.push_back({c, it->second, state_since[c], t});
  state_now[c] = state;
  state_since[c] = t;
}

void RunContext::on_active(NodeId n, LockGeneration generation) {
  // Read the node after its callback returns (observers must not call back into the node).
  uint32_t c = cluster_of[n];
  world.loop().after(0, [this, n, c] {
    cluster::Node* node_ptr = node(n);
    if (node_ptr == nullptr || !node_ptr->is_active()) return;
    RecoveryRecord r;
    r.time_us = world.now();
    auto fault = last_fault.find(c);
    r.cause = fault == last_fault.end() ? "lock_takeover" : fault->second.first;
    r.fault_time_us = fault == last_fault.end() ? world.now() : fault->second.second;
    last_fault.erase(c);
    r.cluster = c;
    r.node = n.value;
    proto::ReplicationStatus s = node_ptr->status();
    r.primary = s.mode() == "primary";
    r.epoch = node_ptr->epoch().value;
    r.index = r.primary ? node_ptr->last_wal().value : node_ptr->last_remote_wal().value;
    r.index_root = node_ptr->merkle_root_hex();
    r.rebuilt_root = stored_root(*node_ptr);
    if (auto data = node_ptr->replicated_snapshot()) r.data = std::move(*data);
    obs.recoveries.push_back(std::move(r));
  });
}

void RunContext::take_samples() {
  const TimeUs now = world.now();
  for (uint32_t c = 0; c < clusters; ++c) {
    cluster::Node* n = active_node(c);
    if (n == nullptr) {
      sampled_status.erase(c);  // the next active node is a change
      continue;
    }
    proto::ReplicationStatus s = n->status();
    mode[c] = s.mode();
    StateSnapshot snap;
    snap.time_us = now;
    snap.cluster = c;
    snap.node = n->id().value;
    snap.primary = s.mode() == "primary";
    snap.state = s.state();
    snap.epoch = n->epoch().value;
    snap.index = snap.primary ? n->last_wal().value : n->last_remote_wal().value;
    if (auto cu = catching_up.find(c); cu != catching_up.end()) {
      if (!snap.primary && snap.epoch == cu->second.first && snap.index < cu->second.second) {
        snap.state = "catching-up";
      } else {
        catching_up.erase(cu);
      }
    }
    snap.merkle_root = n->merkle_root_hex();
    snap.has_data = data_due(c, snap);
    if (snap.has_data) {
      take_data(c, *n, &snap);
      data_taken[c] = {now, snap.data.size() + snap.local_paths.size()};
    }
    if (!snap.primary && s.mode() == "secondary") note_state(c, s.state(), now);
    sample_queue_bounds(c, *n);
    if (const Store* store = n->store(); store != nullptr && store->last_remote()) {
      const RemotePosition r = *store->last_remote();
      epoch_log.on_landed(c, r.epoch.value, r.index.value, &obs.epochs);
    }
    if (!snap.primary && snap.epoch != 0 && epoch_log.held(c).first == 0) {
      // Nothing applied or reconciled reported yet (a secondary activated into the epoch and
      // not yet streaming): it holds the epoch it follows, up to what it reports.
      epoch_log.on_apply(c, snap.epoch, snap.index, &obs.epochs);
    }
    if (snap.primary) {
      // A new epoch, whatever its number (a promotion a few ms after another's may get a lower
      // one): its parent is the epoch this cluster held, forked where it held it. Entries
      // fetched by merkle-sync are not reported applied one by one: the node's own
      // last_remote_wal (kept across promotion) covers them.
      // A replicated commit in flight at the promotion lands before the new epoch's first
      // (commits are FIFO) without an apply report (the secondary role is gone): the store's
      // remote position has it.
      uint64_t remote = n->last_remote_wal().value;
      const Store* store = n->store();
      if (auto r = store != nullptr ? store->last_remote() : std::nullopt;
          r && r->epoch.value == epoch_log.held(c).first) {
        remote = std::max(remote, r->index.value);
      }
      epoch_log.on_primary(now, c, snap.epoch, remote, planned(*this, c), &obs.epochs);
      max_epoch = std::max(max_epoch, snap.epoch);
    }
    obs.snapshots.push_back(std::move(snap));
  }
}

void RunContext::take_data(uint32_t c, const cluster::Node& n, StateSnapshot* snap) {
  snapshot_cache.take(c, n, &snap->data, &snap->local_paths);
  if (!cfg.cross_check_data) return;
  // What the snapshot would have been without the cache.
  std::map<std::string, std::string> data;
  std::vector<std::string> local_paths;
  if (auto d = n.replicated_snapshot()) data = std::move(*d);
  if (auto local = n.local_snapshot()) {
    for (const auto& [path, value] : *local) local_paths.push_back(path);
  }
  REPLSIM_ASSERT(SnapshotData(data) == snap->data);
  REPLSIM_ASSERT(SnapshotPaths(local_paths) == snap->local_paths);
  ++data_cross_checked;
}

bool RunContext::data_due(uint32_t c, const StateSnapshot& s) {
  const std::string status =
      std::to_string(s.node) + "/" + mode[c] + "/" + s.state + "/" + std::to_string(s.epoch);
  std::string& last = sampled_status[c];
  const bool changed = last != status;
  last = status;
  auto taken = data_taken.find(c);
  if (every_sample_data || changed || taken == data_taken.end()) return true;
  const TimeUs step = cfg.phases.sample_interval_us;
  const TimeUs by_keys = step * static_cast<TimeUs>(taken->second.second) /
                         static_cast<TimeUs>(kDataSampleKeysPerInterval);
  const TimeUs interval = std::max(step, std::min(by_keys, kDataSampleIntervalMaxUs));
  return s.time_us - taken->second.first >= interval;
}

// Records a batch's size against its limit when it is a violation or a new maximum for its
// (sender, quantity): the bounds checker's verdict (the earliest sample over its limit) is the
// same as over every batch, and the samples stay few (every batch made ~2,700 a virtual s).
static void note_batch_bound(RunContext& ctx, TimeUs t, uint32_t from, const char* name,
                             uint64_t value, uint64_t limit) {
  if (!keep_bound_sample(value, limit, &ctx.bound_max[{from, name}])) return;
  ctx.obs.bounds.push_back({t, from, name, value, limit});
}

static void observe_batch(RunContext& ctx, const proto::WalBatch& b, ReplicationMessage* m) {
  m->kind = "wal_batch";
  m->carries_data = !b.entries().empty();
  uint64_t bytes = 0;
  for (const proto::WalEntryMsg& e : b.entries()) {
    bytes += e.ByteSizeLong();
    for (const proto::KeyChange& k : e.changes()) m->paths.push_back(k.path());
  }
  cluster::NodeConfig defaults;
  note_batch_bound(ctx, m->time_us, m->from, "wal_batch_entries",
                   static_cast<uint64_t>(b.entries_size()), defaults.batch_entries_max);
  if (b.entries_size() > 1) {
    note_batch_bound(ctx, m->time_us, m->from, "wal_batch_bytes", bytes, defaults.batch_bytes_max);
  }
}

// The body member a NodeEnvelope parse of `bytes` would keep if it succeeds: the field number
// of the last length-delimited field whose number is a NodeEnvelope field (every one is a
// message in the body oneof; other fields are unknown to the parser), 0 when there is none;
// -1 when the top-level walk meets what it does not skip exactly (a group, a truncated field).
static int64_t last_envelope_field(std::string_view bytes) {
  const auto* descriptor = proto::NodeEnvelope::descriptor();
  size_t at = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(bytes[at++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  int64_t last = 0;
  while (at < bytes.size()) {
    uint64_t tag = 0;
    uint64_t len = 0;
    if (!varint(&tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return -1;
    const uint64_t wire_type = tag & 7;
    if (wire_type == 0) {  // varint: nothing to skip after it
      if (!varint(&len)) return -1;
    } else {
      if (wire_type == 2 && !varint(&len)) return -1;
      if (wire_type == 1) len = 8;
      if (wire_type == 5) len = 4;
      if (wire_type != 1 && wire_type != 2 && wire_type != 5) return -1;
      if (len > bytes.size() - at) return -1;
      at += len;
    }
    const auto number = static_cast<int>(tag >> 3);
    if (wire_type == 2 && descriptor->FindFieldByNumber(number) != nullptr) last = number;
  }
  return last;
}

void RunContext::observe_wire(NodeId from, NodeId to, const std::string& payload) {
  if (!is_cluster_node(from) || !is_cluster_node(to)) return;  // client traffic is TLS's job
  const TimeUs now = world.now();
  // Only wal_batch and merkle_round bodies are recorded, and a plaintext sighting names the
  // body kind: other messages without the marker need no parse.
  const bool marked = payload.find(kPlaintextMarker) != std::string::npos;
  const int64_t last = last_envelope_field(payload);
  if (!marked && last >= 0 && last != proto::NodeEnvelope::kWalBatchFieldNumber &&
      last != proto::NodeEnvelope::kMerkleRoundFieldNumber) {
    obs.plaintext_scanned_bytes += payload.size();  // what scan_plaintext() counts
    return;
  }
  proto::NodeEnvelope env;
  bool parsed = env.ParseFromString(payload);
  std::string kind = "unparsed";
  if (parsed && env.body_case() != proto::NodeEnvelope::BODY_NOT_SET) {
    kind = env.GetDescriptor()->FindFieldByNumber(env.body_case())->name();
  }
  if (marked) {
    scan_plaintext(payload, now, "wire " + sim::link_name(from, to) + " in a " + kind, &obs);
  } else {
    obs.plaintext_scanned_bytes += payload.size();
  }
  if (!parsed) return;
  ReplicationMessage m;
  m.time_us = now;
  m.from = from.value;
  m.to = to.value;
  m.to_cluster = cluster_of[to];
  if (env.has_wal_batch()) {
    observe_batch(*this, env.wal_batch(), &m);
  } else if (env.has_merkle_round()) {
    m.kind = "merkle";
    // Only the primary's side of a merkle round carries replicated data.
    m.carries_data =
        env.merkle_round().error() == proto::STREAM_OK && mode[cluster_of[from]] == "primary";
  } else {
    return;
  }
  if (cluster_of[from] == cluster_of[to]) m.carries_data = false;
  if (stored_payload_bytes + payload.size() <= kStoredPayloadBytesMax) {
    stored_payload_bytes += payload.size();
    m.payload = payload;
  }
  obs.replication_messages.push_back(std::move(m));
}

}  // namespace replsim::harness
