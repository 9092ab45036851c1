// Checkers 5-8 of docs/design.md §4: local stays local, index consistency after recovery, bounds,
// security (no plaintext at rest or on the wire; nothing replicated without activation).
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

// The cluster a local path belongs to: "local/c<N>/..." → N; -1 for other paths.
static int64_t local_owner(const std::string& path) {
  if (!detail::has_prefix(path, "local/c")) return -1;
  size_t end = path.find('/', 7);
  if (end == std::string::npos || end == 7) return -1;
  return std::strtoll(path.substr(7, end - 7).c_str(), nullptr, 10);
}

static bool shipped_kind(const std::string& kind) {
  return kind == "wal_batch" || kind == "merkle";
}

CheckerResult check_local_stays_local(const History& h, const Observations& o,
                                      const CheckContext& c) {
  const char* name = kCheckLocalStaysLocal;
  std::map<std::string, uint32_t> token_cluster;  // token → cluster that minted it
  uint64_t foreign_refused = 0;
  for (const HistoryEvent& e : h.events()) {
    if (e.client < 0 || e.type == EventType::kInvoke) continue;
    if (e.f == kOpTokenUse && e.type != EventType::kOk) {
      auto it = token_cluster.find(e.token);
      if (it != token_cluster.end() && it->second != e.cluster) ++foreign_refused;
      continue;
    }
    if (e.type != EventType::kOk) continue;
    if (e.f == kOpLogin && !e.token.empty()) token_cluster[e.token] = e.cluster;
    if (e.f != kOpTokenUse) continue;
    auto it = token_cluster.find(e.token);
    if (it != token_cluster.end() && it->second != e.cluster) {
      return fail_event(name, c, e,
                        "a token minted on cluster " + std::to_string(it->second) +
                            " was accepted by cluster " + std::to_string(e.cluster));
    }
  }
  for (const ReplicationMessage& m : o.replication_messages) {
    if (!shipped_kind(m.kind)) continue;
    for (const std::string& p : m.paths) {
      if (detail::is_local_path(p, c)) {
        return fail_at(name, c, m.time_us,
                       "local path " + p + " shipped in a " + m.kind + " " +
                           std::to_string(m.from) + "->" + std::to_string(m.to));
      }
    }
    if (m.payload.find("local/") != std::string::npos) {
      return fail_at(name, c, m.time_us,
                     "a local path (\"local/\") appears in the bytes of a " + m.kind + " " +
                         std::to_string(m.from) + "->" + std::to_string(m.to));
    }
    for (const auto& [token, cluster] : token_cluster) {
      if (m.payload.find(token) != std::string::npos) {
        return fail_at(name, c, m.time_us,
                       "a token minted on cluster " + std::to_string(cluster) + " appears in a " +
                           m.kind + " " + std::to_string(m.from) + "->" + std::to_string(m.to));
      }
    }
  }
  for (const StateSnapshot& s : o.snapshots) {
    for (const auto& [path, value] : s.data) {
      if (detail::is_local_path(path, c)) {
        return fail_at(name, c, s.time_us,
                       "local path " + path + " is in the replicated data of cluster " +
                           std::to_string(s.cluster));
      }
    }
    for (const std::string& path : s.local_paths) {
      int64_t owner = local_owner(path);
      if (owner >= 0 && owner != s.cluster) {
        return fail_at(name, c, s.time_us,
                       "cluster " + std::to_string(s.cluster) + " stores " + path +
                           ", a local path of cluster " + std::to_string(owner));
      }
    }
  }
  return pass(name, c,
              std::to_string(token_cluster.size()) + " tokens stayed in their cluster, " +
                  std::to_string(foreign_refused) + " foreign token uses refused");
}

CheckerResult check_index_consistency(const History& h, const Observations& o,
                                      const CheckContext& c) {
  const char* name = kCheckIndexConsistency;
  WriteModel m(h, o);
  size_t roots_compared = 0;
  for (const RecoveryRecord& r : o.recoveries) {
    std::ostringstream where;
    where << "after " << r.cause << " recovery of node " << r.node << " (cluster " << r.cluster
          << "): ";
    if (!r.storage_whole) {
      return fail_at(name, c, r.time_us,
                     where.str() + "storage holds a partial transaction: " + r.storage_detail);
    }
    if (!r.rebuilt_root.empty()) {
      ++roots_compared;
      if (r.index_root != r.rebuilt_root) {
        return fail_at(name, c, r.time_us,
                       where.str() + "merkle index root " + r.index_root +
                           " differs from the root rebuilt from storage " + r.rebuilt_root);
      }
    }
    for (const WriteRecord& w : m.writes()) {
      if (!r.primary || w.outcome != WriteOutcome::kKnown || w.epoch != r.epoch) continue;
      if (w.served_by_cluster != r.cluster || w.ack_time_us > r.fault_time_us) continue;
      if (w.index > r.index) {
        return fail_at(name, c, r.time_us,
                       where.str() + "acknowledged transaction e" + std::to_string(w.epoch) + "/" +
                           std::to_string(w.index) + " is missing (recovered up to " +
                           std::to_string(r.index) + ")");
      }
    }
    if (!r.primary) continue;  // a secondary may recover mid-reconcile
    std::string why = m.state_disallowed(r.data, r.epoch, r.index, r.time_us);
    if (!why.empty()) {
      return fail_at(name, c, r.time_us, where.str() + "storage is not whole: " + why);
    }
  }
  return pass(name, c,
              std::to_string(o.recoveries.size()) + " recoveries, " +
                  std::to_string(roots_compared) + " index roots compared");
}

CheckerResult check_bounds(const History& h, const Observations& o, const CheckContext& c) {
  const char* name = kCheckBounds;
  const BoundSample* first = nullptr;
  for (const BoundSample& b : o.bounds) {
    if (b.value > b.limit && (first == nullptr || b.time_us < first->time_us)) first = &b;
  }
  if (first != nullptr) {
    return fail_at(name, c, first->time_us,
                   first->name + " = " + std::to_string(first->value) + " exceeds its limit " +
                       std::to_string(first->limit) + " at node " + std::to_string(first->node));
  }
  return pass(name, c, std::to_string(o.bounds.size()) + " bounded quantities within limits");
}

CheckerResult check_security(const History& h, const Observations& o, const CheckContext& c) {
  const char* name = kCheckSecurity;
  if (!o.plaintext.empty()) {
    const PlaintextSighting& p = o.plaintext.front();
    return fail_at(name, c, p.time_us, "plaintext value \"" + p.excerpt + "\" found on " + p.where);
  }
  // Clusters activated as secondaries (enable_secondary / update_primary succeeded), by time.
  // A rogue cluster's join attempt with bad credentials ("rogue_join:<how>") must be refused.
  std::map<uint32_t, TimeUs> activated;
  uint64_t rogue_refused = 0;
  for (const HistoryEvent& e : h.events()) {
    if (e.client != kOperatorClient) continue;
    const bool rogue = e.f.rfind("rogue_join:", 0) == 0;
    if (rogue && e.type == EventType::kFail) ++rogue_refused;
    if (e.type != EventType::kOk) continue;
    if (rogue) {
      return fail_event(name, c, e,
                        "cluster " + std::to_string(e.cluster) + " joined with a bad token (" +
                            e.f.substr(11) + ")");
    }
    if (e.f == "enable_secondary" || e.f == "update_primary")
      activated.emplace(e.cluster, e.time_us);
  }
  for (const ReplicationMessage& m : o.replication_messages) {
    if (!m.carries_data) continue;
    auto it = activated.find(m.to_cluster);
    if (it == activated.end() || it->second > m.time_us) {
      return fail_at(name, c, m.time_us,
                     "cluster " + std::to_string(m.to_cluster) + " received a " + m.kind + " (" +
                         std::to_string(m.from) + "->" + std::to_string(m.to) +
                         ") without a valid activation token");
    }
  }
  return pass(name, c,
              std::to_string(o.plaintext_scanned_bytes) +
                  " bytes scanned for plaintext, none found; " + std::to_string(rogue_refused) +
                  " bad-token joins refused");
}

}  // namespace replsim::harness
