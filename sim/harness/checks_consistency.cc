// Checkers 1-3 of docs/design.md §4: conflict-free / prefix consistency, eventual convergence,
// durability (with the loss window across unplanned promotions).
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "sim/harness/checkers.h"
#include "sim/harness/checks_common.h"
#include "sim/harness/write_model.h"

namespace replsim::harness {

using detail::fail_at;
using detail::fail_event;
using detail::pass;

static bool settled(const StateSnapshot& s, const CheckContext& c) {
  // A primary is settled once "running": mid-promotion (no role state yet) the replicated
  // commits submitted before it are still landing, so the state is no prefix of its epoch yet.
  return std::find(c.settled_states.begin(), c.settled_states.end(), s.state) !=
         c.settled_states.end();
}

// True when `later` holds the state `earlier` held (cheap fields first).
static bool same_state(const StateSnapshot& earlier, const StateSnapshot& later) {
  return earlier.time_us <= later.time_us && earlier.epoch == later.epoch &&
         earlier.index == later.index && earlier.primary == later.primary &&
         earlier.merkle_root == later.merkle_root && earlier.data.size() == later.data.size() &&
         earlier.data == later.data;
}

// Why settled snapshot `s` is not a prefix state; "" when it is.
static std::string snapshot_disallowed(const WriteModel& m, const StateSnapshot& s,
                                       const CheckContext& c) {
  std::string why = m.state_disallowed(s.data, s.epoch, s.index, s.time_us);
  // After merkle-sync a secondary holds the primary's state at some index at or past the
  // one it reports (it resumes streaming from the guard): any later prefix of its epoch
  // that matches is a prefix state too.
  if (why.empty() || s.primary) return why;
  std::set<uint64_t> later;
  for (const WriteRecord& w : m.writes()) {
    if (w.outcome == WriteOutcome::kKnown && w.epoch == s.epoch && w.index > s.index &&
        w.ack_time_us <= s.time_us + c.convergence_bound_us) {
      later.insert(w.index);
    }
  }
  for (uint64_t j : later) {
    if (m.state_disallowed(s.data, s.epoch, j, s.time_us).empty()) return "";
  }
  return why;
}

CheckerResult check_prefix_consistency(const History& h, const Observations& o,
                                       const CheckContext& c) {
  const char* name = kCheckPrefixConsistency;
  WriteModel m(h, o);
  // One primary per epoch: a commit in epoch e comes only from e's primary cluster.
  std::map<uint64_t, uint32_t> committer;
  for (const EpochStart& e : o.epochs) committer.emplace(e.epoch, e.primary_cluster);
  for (const PositionRecord& p : o.positions) {
    if (!p.committed) continue;
    auto [it, fresh] = committer.emplace(p.epoch, p.cluster);
    if (!fresh && it->second != p.cluster) {
      std::ostringstream s;
      s << "two primaries in epoch " << p.epoch << ": cluster " << p.cluster << " committed index "
        << p.index << " but the epoch belongs to cluster " << it->second
        << " (a secondary committed a replicated write, or split brain)";
      return fail_at(name, c, p.time_us, s.str());
    }
  }
  // One write per position: two acknowledged writes at one (epoch, index) conflict.
  std::map<std::pair<uint64_t, uint64_t>, const WriteRecord*> at;
  for (const WriteRecord& w : m.writes()) {
    if (w.outcome != WriteOutcome::kKnown || !detail::is_workload_key(w.key)) continue;
    auto [it, fresh] = at.emplace(std::make_pair(w.epoch, w.index), &w);
    if (!fresh && (it->second->key != w.key || it->second->value != w.value)) {
      std::ostringstream s;
      s << "conflict: two different writes acknowledged at e" << w.epoch << "/" << w.index
        << " (events #" << it->second->completion_index << " and #" << w.completion_index << ")";
      return fail_event(name, c, h.at(w.completion_index), s.str());
    }
  }
  // Every settled snapshot is the lineage's state after some prefix.
  size_t checked = 0;
  // A snapshot equal to its cluster's last one that passed, taken later, passes too: time only
  // enters the verdict through "invoked by then" and "acknowledged within the bound", which a
  // later time only widens.
  std::map<uint32_t, const StateSnapshot*> passed;
  for (const StateSnapshot& s : o.snapshots) {
    if (!settled(s, c) || !s.has_data) continue;
    ++checked;
    auto same = passed.find(s.cluster);
    if (same != passed.end() && same_state(*same->second, s)) continue;
    std::string why = snapshot_disallowed(m, s, c);
    if (!why.empty()) {
      std::ostringstream msg;
      msg << "cluster " << s.cluster << " (node " << s.node << ", "
          << (s.primary ? "primary" : "secondary") << ", " << s.state
          << ") is not a prefix of the primary lineage: " << why;
      return fail_at(name, c, s.time_us, msg.str());
    }
    passed[s.cluster] = &s;
  }
  // Reads of workload keys see prefix values too (a value nobody committed is never read).
  for (const HistoryEvent& e : h.events()) {
    if (e.type != EventType::kOk || e.f != kOpRead || !e.value.has_value()) continue;
    if (!detail::is_workload_key(e.key)) continue;
    const WriteRecord* w = m.by_value(*e.value);
    if (w == nullptr || w->key != e.key || w->outcome == WriteOutcome::kFailed) {
      return fail_event(name, c, e,
                        "read returned a value that no write of " + e.key + " produced " +
                            "(or one whose write failed)");
    }
  }
  return pass(name, c, std::to_string(checked) + " snapshots are prefix states");
}

// Why snapshot `s` differs from the primary's `p`; "" when equal.
static std::string difference(const StateSnapshot& p, const StateSnapshot& s) {
  std::ostringstream why;
  if (s.epoch != p.epoch) {
    why << "cluster " << s.cluster << " is at epoch " << s.epoch << ", primary at " << p.epoch;
  } else if (s.data != p.data) {
    size_t diff = 0;
    std::string first;
    std::set<std::string> keys;
    for (const auto& [k, v] : p.data) keys.insert(k);
    for (const auto& [k, v] : s.data) keys.insert(k);
    for (const std::string& k : keys) {
      auto a = p.data.find(k);
      auto b = s.data.find(k);
      bool same = (a == p.data.end()) == (b == s.data.end()) &&
                  (a == p.data.end() || a->second == b->second);
      if (!same && diff++ == 0) first = k;
    }
    why << "cluster " << s.cluster << " differs from the primary in " << diff
        << " keys (first: " << first << ")";
  } else if (s.merkle_root != p.merkle_root) {
    why << "cluster " << s.cluster << " has merkle root " << s.merkle_root
        << " but the primary has " << p.merkle_root << " over equal data";
  }
  return why.str();
}

CheckerResult check_convergence(const History& h, const Observations& o, const CheckContext& c) {
  const char* name = kCheckConvergence;
  if (!c.bounded) return detail::skip(name, c, "unbounded regime: liveness is not claimed");
  const TimeUs deadline = c.quiesce_time_us + c.convergence_bound_us;
  std::map<TimeUs, std::vector<const StateSnapshot*>> rounds;
  for (const StateSnapshot& s : o.snapshots) {
    if (s.time_us >= c.quiesce_time_us) rounds[s.time_us].push_back(&s);
  }
  std::string last_why = "no snapshot was taken after the faults stopped";
  for (const auto& [t, round] : rounds) {
    if (t > deadline) break;
    const bool status_only = std::any_of(round.begin(), round.end(),
                                         [](const StateSnapshot* s) { return !s->has_data; });
    if (status_only) continue;  // not a round of data snapshots
    const StateSnapshot* primary = nullptr;
    for (const StateSnapshot* s : round) {
      if (s->primary && (primary == nullptr || s->epoch > primary->epoch)) primary = s;
    }
    if (primary == nullptr) {
      last_why = "no active primary";
      continue;
    }
    std::set<uint32_t> seen;
    std::string why;
    for (const StateSnapshot* s : round) {
      seen.insert(s->cluster);
      if (why.empty() && s != primary) why = difference(*primary, *s);
    }
    if (why.empty() && seen.size() < c.clusters) why = "a cluster has no active node";
    if (why.empty()) {
      return pass(name, c,
                  "converged " + std::to_string((t - c.quiesce_time_us) / 1000) +
                      " ms after quiesce (bound " + std::to_string(c.convergence_bound_us / 1000) +
                      " ms)");
    }
    last_why = why;
  }
  return fail_at(name, c, deadline,
                 "not converged within " + std::to_string(c.convergence_bound_us / 1000) +
                     " ms of quiesce: " + last_why);
}

// The promotion that dropped write `w`: walking w's lineage up from its own epoch, the first
// epoch `a` from which another epoch forked without w: from w's epoch, one forked before w's
// index; from an ancestor (w's branch was abandoned, e.g. for a sibling promoted a few ms
// later), any epoch forked from it but w's branch. One in the final lineage is preferred; null
// when none.
static const EpochStart* lost_by(const WriteModel& m, const WriteRecord& w, uint64_t final_epoch) {
  uint64_t branch = 0;  // the epoch of w's lineage that forked from `a` (0: a is w's epoch)
  uint64_t a = w.epoch;
  for (size_t hops = 0; hops <= m.epochs().size() && a != 0; ++hops) {
    const EpochStart* found = nullptr;
    for (const EpochStart& e : m.epochs()) {
      if (e.parent_epoch != a || e.epoch == branch) continue;
      if (branch == 0 && e.fork_index >= w.index) continue;
      bool in_lineage = m.contains(final_epoch, UINT64_MAX, e.epoch, 0);
      if (found == nullptr || in_lineage) found = &e;
      if (in_lineage) break;
    }
    if (found != nullptr) return found;
    const EpochStart* up = m.epoch_start(a);
    if (up == nullptr) break;
    branch = a;
    a = up->parent_epoch;
  }
  return nullptr;
}

CheckerResult check_durability(const History& h, const Observations& o, const CheckContext& c,
                               LossWindow* loss) {
  const char* name = kCheckDurability;
  WriteModel m(h, o);
  LossWindow window;
  for (const EpochStart& e : o.epochs) window.promotions_unplanned += e.planned ? 0 : 1;
  // Crash and power loss of a primary keep every write it acknowledged before the fault.
  for (const RecoveryRecord& r : o.recoveries) {
    if (!r.primary) continue;
    for (const WriteRecord& w : m.writes()) {
      if (w.outcome != WriteOutcome::kKnown || w.epoch != r.epoch) continue;
      if (w.served_by_cluster != r.cluster || w.ack_time_us > r.fault_time_us) continue;
      if (w.index <= r.index) continue;
      std::ostringstream s;
      s << "write acknowledged at e" << w.epoch << "/" << w.index << " before the " << r.cause
        << " at t=" << r.fault_time_us << "us is gone: cluster " << r.cluster
        << " recovered only up to index " << r.index;
      return fail_event(name, c, h.at(w.completion_index), s.str());
    }
  }
  // The final lineage is the last sampled primary's (epoch numbers are not ordered in time:
  // the highest may be an abandoned sibling branch); the highest epoch when none was sampled.
  uint64_t final_epoch = 0;
  for (const EpochStart& e : o.epochs) final_epoch = std::max(final_epoch, e.epoch);
  for (auto it = o.snapshots.rbegin(); it != o.snapshots.rend(); ++it) {
    if (it->primary) {
      final_epoch = it->epoch;
      break;
    }
  }
  for (const WriteRecord& w : m.writes()) {
    if (w.outcome != WriteOutcome::kKnown || final_epoch == 0) continue;
    if (m.contains(final_epoch, UINT64_MAX, w.epoch, w.index)) continue;
    const EpochStart* e = lost_by(m, w, final_epoch);
    if (e == nullptr || e->planned) {
      std::ostringstream s;
      s << "write acknowledged at e" << w.epoch << "/" << w.index << " is not in the final "
        << "primary lineage (epoch " << final_epoch << ")"
        << (e ? ", lost across the planned failover to epoch " + std::to_string(e->epoch)
              : ", and no unplanned promotion explains the loss");
      return fail_event(name, c, h.at(w.completion_index), s.str());
    }
    ++window.writes_lost;
    window.window_us_max =
        std::max(window.window_us_max, std::max<TimeUs>(0, e->time_us - w.ack_time_us));
  }
  if (loss != nullptr) *loss = window;
  return pass(name, c,
              std::to_string(window.writes_lost) + " acknowledged writes lost across " +
                  std::to_string(window.promotions_unplanned) + " unplanned promotions (window " +
                  std::to_string(window.window_us_max / 1000) + " ms)");
}

}  // namespace replsim::harness
