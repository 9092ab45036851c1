// Checkers 10 and 12 of docs/design.md §4: no merkle loop, and availability with leader stability.
//
// merkle_loop: a secondary that enters merkle-sync twice without reaching stream-wals in
// between loops (Vault's documented merkle-sync loop), unless a fault or an operator action
// in between explains the restart: faults and operator actions restart reconciliation
// legitimately, and the write rate of the generated workloads is far within the apply
// capacity, so no other restart is excused.
//
// leader_stability: (a) a cluster's HA lock changes hands (a node becomes active) only at
// boot or when a fault of that cluster explains it: a crash, pause, power loss, clock fault or
// disk fault of one of its nodes, from its injection until its duration plus
// kLockChangeSlackUs (the lease and the clock skew) has passed, or the liveness-phase heal
// (which restarts and resumes nodes); (b) in the bounded regime every cluster that serves
// clients answers one of them successfully after the liveness-phase heal.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "sim/harness/checkers.h"
#include "sim/harness/checks_common.h"

namespace replsim::harness {

using detail::fail_at;
using detail::pass;

namespace {

// Lease (engine default 3 s) + renew interval + the largest clock offsets and jumps the
// generators use: a lock change this long after a fault ends is not the fault's doing.
constexpr TimeUs kLockChangeSlackUs = 10 * kUsPerSec;
// The liveness phase must leave clients this long to show a cluster serves again.
constexpr TimeUs kAvailabilityWindowMinUs = 1 * kUsPerSec;

bool is_fault(const HistoryEvent& e) { return e.client == kNemesisClient; }

// duration_us=<n> from a fault's detail (0 when absent).
TimeUs fault_duration_us(const HistoryEvent& e) {
  const size_t at = e.detail.find("duration_us=");
  if (at == std::string::npos) return 0;
  return std::strtoll(e.detail.c_str() + at + 12, nullptr, 10);
}

// Faults that move a cluster's lock: process, clock and disk faults of its nodes.
bool moves_lock(const std::string& f) {
  static const std::set<std::string> kinds = {"fault:crash",         "fault:pause",
                                              "fault:power_loss",    "fault:clock_jump",
                                              "fault:clock_drift",   "fault:disk_full",
                                              "fault:fsync_failure", "fault:sector_error",
                                              "fault:bit_rot",       "fault:misdirected_write"};
  return kinds.count(f) != 0;
}

bool is_liveness_heal(const HistoryEvent& e) {
  return is_fault(e) && e.f == "fault:heal_all" && detail::has_prefix(e.detail, "everything");
}

// True when an operator action or a fault happened in (from, to].
bool disturbed(const History& h, TimeUs from, TimeUs to) {
  for (const HistoryEvent& e : h.events()) {
    if (e.time_us <= from) continue;
    if (e.time_us > to) break;
    if (is_fault(e) || (e.client == kOperatorClient && e.type == EventType::kInvoke)) return true;
  }
  return false;
}

}  // namespace

CheckerResult check_merkle_loop(const History& h, const Observations& o, const CheckContext& c) {
  const char* name = kCheckMerkleLoop;
  std::map<uint32_t, TimeUs> sync_since;  // cluster → start of a merkle-sync not yet resolved
  size_t syncs = 0;
  for (const StateChange& s : o.state_changes) {
    if (s.state == "stream-wals") {
      sync_since.erase(s.cluster);
      continue;
    }
    if (s.state != "merkle-sync") continue;
    ++syncs;
    auto it = sync_since.find(s.cluster);
    if (it == sync_since.end()) {
      sync_since[s.cluster] = s.time_us;
      continue;
    }
    if (disturbed(h, it->second, s.time_us)) {
      it->second = s.time_us;  // a fresh start: the restart is explained
      continue;
    }
    std::ostringstream msg;
    msg << "cluster " << s.cluster << " (node " << s.node
        << ") entered merkle-sync again at t=" << s.time_us
        << "us without reaching stream-wals since its merkle-sync at t=" << it->second
        << "us, and no fault or operator action in between explains it";
    return fail_at(name, c, s.time_us, msg.str());
  }
  return pass(name, c, std::to_string(syncs) + " merkle-syncs, none looped");
}

// True when a fault of `cluster` (or the liveness-phase heal) explains a lock change at `t`.
static bool lock_change_explained(const History& h, uint32_t cluster, TimeUs t) {
  for (const HistoryEvent& e : h.events()) {
    if (e.time_us > t) break;
    if (!is_fault(e)) continue;
    const bool ours = e.cluster == cluster && moves_lock(e.f);
    if (!ours && !is_liveness_heal(e)) continue;
    if (t <= e.time_us + fault_duration_us(e) + kLockChangeSlackUs) return true;
  }
  return false;
}

CheckerResult check_leader_stability(const History& h, const Observations& o,
                                     const CheckContext& c) {
  const char* name = kCheckLeaderStability;
  std::set<uint32_t> booted;
  size_t changes = 0;
  for (const RecoveryRecord& r : o.recoveries) {
    if (booted.insert(r.cluster).second) continue;  // the first active node: boot
    ++changes;
    if (lock_change_explained(h, r.cluster, r.time_us)) continue;
    std::ostringstream msg;
    msg << "the HA lock of cluster " << r.cluster << " moved to node " << r.node
        << " with no crash, pause, power loss, clock or disk fault of that cluster to explain it";
    return fail_at(name, c, r.time_us, msg.str());
  }
  std::string message = std::to_string(changes) + " lock changes, each explained by a fault";
  // Availability: every cluster with client sessions serves again after the heal.
  const HistoryEvent* heal = nullptr;
  for (const HistoryEvent& e : h.events()) {
    if (is_liveness_heal(e)) heal = &e;
  }
  if (!c.bounded || heal == nullptr ||
      c.quiesce_time_us - heal->time_us < kAvailabilityWindowMinUs) {
    return pass(name, c, message + "; availability not measured (no bounded liveness window)");
  }
  std::map<uint32_t, bool> served;  // cluster with sessions → answered ok after the heal
  for (const HistoryEvent& e : h.events()) {
    if (e.client < 0) continue;
    bool& ok = served[e.cluster];
    ok = ok || (e.type == EventType::kOk && e.time_us >= heal->time_us);
  }
  for (const auto& [cluster, ok] : served) {
    if (ok) continue;
    return fail_at(name, c, c.quiesce_time_us,
                   "cluster " + std::to_string(cluster) +
                       " answered no client successfully after every fault was healed");
  }
  return pass(name, c,
              message + "; " + std::to_string(served.size()) + " clusters served after the heal");
}

}  // namespace replsim::harness
