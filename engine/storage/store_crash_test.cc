// Exhaustive crash points for a small workload: the machine stops at every disk operation
// (SimDisk::freeze_after_ops), then either the process restarts (page cache kept) or the power
// fails keeping every combination of unsynced writes the disk model allows (an in-order prefix
// per file, the next write torn at any sector). Every recovered store must open without error
// and equal the state after some prefix of the workload that contains every acknowledged
// transaction (whole transactions only), with the WAL entries of exactly that prefix; and it
// must accept and keep a new commit.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "engine/storage/store.h"
#include "engine/storage/store_test_util.h"

namespace replsim {
namespace {

using testing::StoreRig;
using Model = std::map<std::string, std::string, std::less<>>;

struct Step {
  std::vector<Transaction> txns;  // submitted in one turn (one group commit)
  bool compact = false;
};

Transaction txn(std::vector<std::pair<std::string, std::string>> puts,
                std::vector<std::string> dels = {}) {
  Transaction t;
  for (auto& [k, v] : puts) t.put(k, v);
  for (auto& k : dels) t.del(k);
  return t;
}

// 8 transactions, one compaction, one group of two, one local-only transaction.
std::vector<Step> workload() {
  return {
      {{txn({{"a", "1"}})}},
      {{txn({{"b", "2"}, {"c", "3"}})}},
      {{txn({{"d", std::string(700, 'd')}}, {"a"})}},  // spans sectors: can tear mid-record
      {{}, true},
      {{txn({{"sys/token/x", "t"}})}},
      {{txn({{"b", "22"}})}},
      {{txn({{"e", "5"}}), txn({{"f", "6"}}, {"c"})}},
      {{txn({{"a", "7"}})}},
  };
}

struct Outcome {
  size_t submitted = 0;
  size_t acked = 0;
};

// Runs the workload until it ends or the disk freezes (the loop runs dry).
Outcome run_workload(StoreRig& rig) {
  Outcome out;
  EXPECT_TRUE(rig.open_only().is_ok());
  for (const Step& step : workload()) {
    size_t done = 0;
    size_t expected = step.txns.size();
    if (step.compact) {
      expected = 1;
      rig.store->compact([&](Status s) { ++done; });
    }
    for (const Transaction& t : step.txns) {
      ++out.submitted;
      rig.store->commit(t, [&](Result<CommitInfo> r) {
        ++done;
        if (r.is_ok()) ++out.acked;
      });
    }
    rig.loop.run_while([&] { return done < expected; });
    if (done < expected) break;  // frozen
  }
  return out;
}

// The model after each prefix, and the replicated paths of each transaction.
std::vector<Model> prefix_states() {
  std::vector<Model> states{Model{}};
  for (const Step& step : workload()) {
    for (const Transaction& t : step.txns) {
      Model m = states.back();
      for (const Mutation& mu : t.mutations) {
        if (mu.deleted) {
          m.erase(mu.path);
        } else {
          m[mu.path] = mu.value;
        }
      }
      states.push_back(m);
    }
  }
  return states;
}

size_t replicated_in_prefix(size_t k) {
  size_t n = 0;
  size_t i = 0;
  for (const Step& step : workload()) {
    for (const Transaction& t : step.txns) {
      if (i++ >= k) return n;
      if (!MountTable().is_local(t.mutations.front().path)) ++n;
    }
  }
  return n;
}

// Opens the recovered store and checks it; returns a failure description or "".
std::string check_recovered(StoreRig& rig, const Outcome& out, const std::string& label) {
  static const std::vector<Model> states = prefix_states();
  Status st = rig.try_open();
  if (!st.is_ok()) return label + ": open failed: " + st.to_string();
  const Model& got = rig.store->contents();
  size_t match = SIZE_MAX;
  for (size_t k = out.acked; k <= out.submitted && match == SIZE_MAX; ++k) {
    if (states[k] == got) match = k;
  }
  if (match == SIZE_MAX) {
    return label + ": state is no prefix in [" + std::to_string(out.acked) + ", " +
           std::to_string(out.submitted) + "]";
  }
  const size_t wal = replicated_in_prefix(match);
  if (rig.store->last_wal_index() != WalIndex(wal)) return label + ": wrong last wal index";
  if (rig.store->wal().size() != wal) return label + ": wal buffer not reloaded";
  // The recovered store accepts and keeps a new commit.
  if (!rig.put("post", "x").is_ok()) return label + ": commit after recovery failed";
  rig.disk.power_loss();
  rig.crash();
  st = rig.try_open();
  if (!st.is_ok() || rig.store->get("post") != "x") return label + ": post-recovery commit lost";
  return "";
}

// Every KeepPlan combination the disk allows for the current unsynced writes.
std::vector<std::map<std::string, sim::KeepPlan>> all_plans(const sim::SimDisk& disk) {
  std::vector<std::map<std::string, sim::KeepPlan>> plans{{}};
  for (const auto& [file, sectors] : disk.unsynced_writes_sectors()) {
    std::vector<sim::KeepPlan> options;
    for (size_t kept = 0; kept <= sectors.size(); ++kept) {
      options.push_back({kept, 0});
      if (kept == sectors.size()) break;
      for (size_t torn = 1; torn < sectors[kept]; ++torn) options.push_back({kept, torn});
    }
    std::vector<std::map<std::string, sim::KeepPlan>> next;
    for (const auto& plan : plans) {
      for (const sim::KeepPlan& option : options) {
        auto p = plan;
        p[file] = option;
        next.push_back(std::move(p));
      }
    }
    plans = std::move(next);
  }
  return plans;
}

TEST(StoreCrash, EveryCrashPointAndPowerLossRecoversAPrefixWithEveryAck) {
  uint64_t ops_total = 0;
  {
    StoreRig rig;
    Outcome out = run_workload(rig);
    ASSERT_EQ(out.acked, 8u);
    ops_total = rig.disk.ops_issued();
  }
  uint64_t crash_states = 0;
  uint64_t power_states = 0;
  uint64_t random_power_states = 0;
  for (uint64_t n = 0; n <= ops_total; ++n) {
    const std::string at = "freeze after op " + std::to_string(n);
    {
      StoreRig rig;
      rig.disk.freeze_after_ops(n);
      Outcome out = run_workload(rig);
      rig.crash();
      rig.disk.thaw();
      ASSERT_EQ(check_recovered(rig, out, at + ", process crash"), "");
      ++crash_states;
    }
    std::vector<std::map<std::string, sim::KeepPlan>> plans;
    {
      StoreRig rig;
      rig.disk.freeze_after_ops(n);
      run_workload(rig);
      plans = all_plans(rig.disk);
    }
    for (size_t i = 0; i < plans.size(); ++i) {
      StoreRig rig;
      rig.disk.freeze_after_ops(n);
      Outcome out = run_workload(rig);
      rig.disk.power_loss_with(plans[i]);
      rig.disk.thaw();
      rig.crash();
      ASSERT_EQ(check_recovered(rig, out, at + ", power plan " + std::to_string(i)), "");
      ++power_states;
    }
    // Random power losses also drop unsynced namespace changes (create, rename, remove).
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      StoreRig rig({}, {}, seed * 7919);
      rig.disk.freeze_after_ops(n);
      Outcome out = run_workload(rig);
      rig.disk.power_loss();
      rig.disk.thaw();
      rig.crash();
      ASSERT_EQ(check_recovered(rig, out, at + ", random power loss " + std::to_string(seed)), "");
      ++random_power_states;
    }
  }
  std::printf(
      "[ states ] %llu disk ops; %llu crash states, %llu power-loss states (every "
      "plan), %llu random power losses; %llu states checked\n",
      static_cast<unsigned long long>(ops_total), static_cast<unsigned long long>(crash_states),
      static_cast<unsigned long long>(power_states),
      static_cast<unsigned long long>(random_power_states),
      static_cast<unsigned long long>(crash_states + power_states + random_power_states));
  EXPECT_GT(power_states, crash_states);
}

}  // namespace
}  // namespace replsim
