// What the runner measures of the engine beyond the checkers' observations:
// - replication lag in global virtual time, per entry: from the primary's on_wal_committed
//   (epoch, index) to a secondary's first on_wal_applied of the same (epoch, index)
//   (entries a merkle-sync fetched are not applied one by one and have no lag sample);
// - the sizes of the engine's bounded queues against their limits (bounds checker);
// - the merkle root rebuilt from a node's replicated data as stored (index consistency).
#include <algorithm>

#include "engine/wal/wal_buffer.h"
#include "sim/harness/run_context.h"
#include "sim/harness/stored_root.h"

namespace replsim::harness {

void RunContext::note_commit_time(Epoch epoch, WalIndex index) {
  const std::pair<uint64_t, uint64_t> at{epoch.value, index.value};
  commit_time[at] = world.now();
  commit_head = std::max(commit_head, at);
  while (commit_time.size() > kCommitTimesMax) commit_time.erase(commit_time.begin());
}

void RunContext::note_apply_lag(uint32_t c, Epoch epoch, WalIndex index) {
  const std::pair<uint64_t, uint64_t> at{epoch.value, index.value};
  auto a = applied.find(c);
  if (a != applied.end() && at <= a->second) return;  // applied before (restart, re-sync)
  auto committed = commit_time.find(at);
  if (committed == commit_time.end()) return;
  const uint64_t k = lag_entries_applied++;
  if (k % lag_stride != 0) return;
  if (result.lag.size() >= kLagSamplesMax) {
    // Keep every other sample: the samples are entries k = 0, s, 2s, ... → 0, 2s, 4s, ...
    size_t kept = 0;
    for (size_t i = 0; i < result.lag.size(); i += 2) result.lag[kept++] = result.lag[i];
    result.lag.resize(kept);
    lag_stride *= 2;
    if (k % lag_stride != 0) return;
  }
  const TimeUs now = world.now();
  const uint64_t behind = commit_head.first == at.first ? commit_head.second - at.second : 0;
  result.lag.push_back({now, c, behind, now - committed->second});
}

void RunContext::note_request(const HistoryEvent& e) {
  if (e.client == kNemesisClient) return;
  if (e.type == EventType::kInvoke) {
    open_requests.insert(e.op_id);
  } else if (open_requests.erase(e.op_id) != 0) {
    recent_completions.push_back(e.time_us);
  }
}

void RunContext::sample_queue_bounds(uint32_t c, const cluster::Node& n) {
  const TimeUs now = world.now();
  while (!recent_completions.empty() && recent_completions.front() < now - kRequestHeldMaxUs) {
    recent_completions.pop_front();
  }
  const uint64_t requests = open_requests.size() + recent_completions.size();
  const cluster::NodeConfig config;  // what build_deployment gives every node
  const replsim::WalOptions wal;
  const std::map<std::string, uint64_t> q = n.queue_sizes();
  auto guards = q.find("wal_guards");
  const bool guarded = guards != q.end() && guards->second > 0;
  for (const auto& [name, value] : q) {
    uint64_t limit = requests;  // waiters, forwards_pending, inflight_writes
    if (name == "wal_buffer_entries") {
      limit = config.wal_buffer_entries_max + (guarded ? wal.guard_entries_extra_max : 0);
    } else if (name == "wal_guards") {
      limit = wal.guards_max;
    } else if (name == "dedupe_entries") {
      limit = kDedupeEntriesLimit;
    } else if (name.rfind("inflight_batches/", 0) == 0) {
      limit = config.inflight_batches_max;
    }
    if (keep_bound_sample(value, limit, &bound_max[{n.id().value, name}])) {
      obs.bounds.push_back(
          {now, n.id().value, name + " (cluster " + std::to_string(c) + ")", value, limit});
    }
  }
}

std::string RunContext::stored_root(const cluster::Node& n) const {
  std::optional<std::map<std::string, std::string>> stored = n.replicated_raw();
  if (!stored) return "";
  const cluster::NodeConfig config;
  return merkle_root_from_storage(*stored, {config.merkle_root_bits, config.merkle_sub_bits});
}

}  // namespace replsim::harness
