// index_state, merkle_loop and leader_stability each catch a violation planted in a synthetic
// history, and pass the same history without the plant.
#include <gtest/gtest.h>

#include "sim/harness/checkers.h"

namespace replsim::harness {
namespace {

constexpr uint64_t kSeed = 77;

struct World {
  History h;
  Observations o;
  uint64_t op = 0;

  World() {
    // Epoch 1 on cluster 0; epoch 258 forked from e1 at index 5 on cluster 1 (unplanned).
    o.epochs.push_back({0, 1, 0, 0, 0, true});
    o.epochs.push_back({1000, 258, 1, 1, 5, false});
  }
  CheckContext ctx() {
    CheckContext c;
    c.seed = kSeed;
    c.clusters = 2;
    c.quiesce_time_us = 20'000'000;
    return c;
  }
  // A read by client 7 requiring (req_e, req_i), answered ok at (e, i) by `cluster`.
  void read(TimeUs t, uint64_t req_e, uint64_t req_i, uint64_t e, uint64_t i, uint32_t cluster) {
    HistoryEvent x;
    x.time_us = t;
    x.client = 7;
    x.op_id = ++op;
    x.f = kOpRead;
    x.key = "kv/a";
    x.cluster = cluster;
    x.epoch = req_e;
    x.wal_index = req_i;
    h.append(x);
    x.time_us = t + 5;
    x.type = EventType::kOk;
    x.epoch = e;
    x.wal_index = i;
    x.served_by_cluster = cluster;
    h.append(x);
  }
  void fault(TimeUs t, const char* f, uint32_t cluster, TimeUs duration_us,
             const char* target = "node 3") {
    HistoryEvent x;
    x.time_us = t;
    x.client = kNemesisClient;
    x.op_id = ++op;
    x.type = EventType::kInfo;
    x.f = f;
    x.cluster = cluster;
    x.detail = std::string(target) + " duration_us=" + std::to_string(duration_us);
    h.append(x);
  }
  void client_ok(TimeUs t, uint32_t cluster) {
    HistoryEvent x;
    x.time_us = t;
    x.client = 8;
    x.op_id = ++op;
    x.f = kOpWrite;
    x.key = "kv/b";
    x.cluster = cluster;
    h.append(x);
    x.time_us = t + 5;
    x.type = EventType::kOk;
    h.append(x);
  }
  void active(TimeUs t, uint32_t cluster, uint32_t node) {
    RecoveryRecord r;
    r.time_us = t;
    r.cluster = cluster;
    r.node = node;
    o.recoveries.push_back(r);
  }
};

void expect_caught(const CheckerResult& r, const char* name, const std::string& needle) {
  EXPECT_EQ(r.name, name);
  EXPECT_FALSE(r.passed) << describe(r);
  EXPECT_EQ(r.seed, kSeed);
  EXPECT_GE(r.event_time_us, 0);
  EXPECT_NE(r.message.find(needle), std::string::npos) << describe(r);
}

TEST(IndexState, CatchesAReadServedFromAStateThatDoesNotContainTheRequiredPosition) {
  World w;
  w.read(100, 1, 3, 1, 4, 1);     // at or after: e1/4 contains e1/3
  w.read(1100, 1, 5, 258, 0, 1);  // the new epoch forked at e1/5: it contains e1/5
  EXPECT_TRUE(check_index_state(w.h, w.o, w.ctx()).passed)
      << describe(check_index_state(w.h, w.o, w.ctx()));
  // Planted: e1/7 was lost by the unplanned promotion (fork at 5); a state of e258 does not
  // hold it, so serving the read there returns state from another branch.
  w.read(1300, 1, 7, 258, 2, 1);
  expect_caught(check_index_state(w.h, w.o, w.ctx()), kCheckIndexState, "does not contain");
}

TEST(IndexState, CatchesAReadServedBehindTheRequiredIndex) {
  World w;
  w.read(100, 1, 3, 1, 3, 1);
  EXPECT_TRUE(check_index_state(w.h, w.o, w.ctx()).passed);
  w.read(200, 1, 4, 1, 2, 1);  // planted: served at e1/2 for a read that requires e1/4
  expect_caught(check_index_state(w.h, w.o, w.ctx()), kCheckIndexState, "behind it");
}

TEST(MerkleLoop, CatchesASecondMerkleSyncWithoutStreamWalsOrAFault) {
  World w;
  auto state = [&](TimeUs t, const char* s) { w.o.state_changes.push_back({t, 1, 3, s}); };
  state(100, "merkle-diff");
  state(200, "merkle-sync");
  state(300, "stream-wals");
  state(400, "merkle-diff");
  state(500, "merkle-sync");
  w.fault(550, "fault:partition", 1, 100);  // explains the restart that follows
  state(600, "connecting");
  state(700, "merkle-sync");
  EXPECT_TRUE(check_merkle_loop(w.h, w.o, w.ctx()).passed)
      << describe(check_merkle_loop(w.h, w.o, w.ctx()));
  state(800, "merkle-diff");
  state(900, "merkle-sync");  // planted: again, nothing in between explains it
  CheckerResult r = check_merkle_loop(w.h, w.o, w.ctx());
  expect_caught(r, kCheckMerkleLoop, "without reaching stream-wals");
  EXPECT_EQ(r.event_time_us, 900);
}

TEST(LeaderStability, CatchesALockChangeNoFaultExplains) {
  World w;
  w.active(10, 0, 1);  // boot
  w.active(10, 1, 3);
  w.fault(5'000'000, "fault:pause", 1, 2'000'000);
  w.active(8'000'000, 1, 4);  // within the pause + slack: explained
  EXPECT_TRUE(check_leader_stability(w.h, w.o, w.ctx()).passed)
      << describe(check_leader_stability(w.h, w.o, w.ctx()));
  w.active(9'000'000, 0, 2);  // planted: cluster 0 had no fault at all
  expect_caught(check_leader_stability(w.h, w.o, w.ctx()), kCheckLeaderStability,
                "HA lock of cluster 0");
}

TEST(LeaderStability, CatchesAClusterThatNeverServesAfterTheHeal) {
  World w;
  w.client_ok(100, 0);
  w.client_ok(200, 1);
  w.fault(10'000'000, "fault:heal_all", 0, 0, "everything");
  w.client_ok(11'000'000, 0);
  CheckContext c = w.ctx();
  // Planted: cluster 1 answered clients before the heal but never after.
  expect_caught(check_leader_stability(w.h, w.o, c), kCheckLeaderStability, "cluster 1");
  w.client_ok(12'000'000, 1);
  EXPECT_TRUE(check_leader_stability(w.h, w.o, c).passed)
      << describe(check_leader_stability(w.h, w.o, c));
  c.bounded = false;  // unbounded: availability is not claimed
  EXPECT_TRUE(check_leader_stability(w.h, w.o, c).passed);
}

}  // namespace
}  // namespace replsim::harness
