// Determinism of a whole randomized world: same seed → same trace, and a planted source of
// nondeterminism is named by the first-divergence report.
#include "sim/world.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace replsim::sim {
namespace {

// A node that chats: on random timers it sends random bytes to a random peer, appends what it
// sends and receives to a file, syncs now and then, and answers some messages.
class Chatter final : public Process {
 public:
  // `salt`, when not null, is mixed into every payload (the planted nondeterminism).
  Chatter(Env& env, std::vector<NodeId> peers, const int* salt)
      : env_(env), peers_(std::move(peers)), salt_(salt) {
    env_.set_receiver([this](NodeId from, std::string payload) { on_message(from, payload); });
    file_ = std::move(env_.fs().open("log", true).value());
    schedule_tick();
  }

 private:
  void schedule_tick() {
    TimeUs delay_us = env_.random().uniform_range(kUsPerMs, 5 * kUsPerMs);
    if (env_.buggify("chatter.slow_tick")) delay_us *= 10;
    env_.schedule(delay_us, [this] { tick(); });
  }
  void tick() {
    std::string payload;
    env_.random().fill_bytes(12, &payload);
    if (salt_ != nullptr) payload += std::to_string(*salt_);
    env_.send(peers_[env_.random().uniform(peers_.size())], payload);
    file_->append(payload, [this](Status s) { errors_ += !s.is_ok(); });
    if (++ticks_ % 4 == 0) file_->sync([this](Status s) { errors_ += !s.is_ok(); });
    schedule_tick();
  }
  void on_message(NodeId from, const std::string& payload) {
    file_->append(payload, [this](Status s) { errors_ += !s.is_ok(); });
    if (static_cast<unsigned char>(payload[0]) % 2 == 0) {
      env_.send(from, "ack" + std::to_string(env_.now_us()));
    }
  }

  Env& env_;
  std::vector<NodeId> peers_;
  const int* salt_;
  std::unique_ptr<File> file_;
  int ticks_ = 0;
  int errors_ = 0;
};

struct ScenarioConfig {
  const int* salt_of_node3 = nullptr;  // planted nondeterminism
};

// Five nodes on two disks (two "datacenters"), lossy links, and a schedule of partitions,
// a crash and restart, a pause, a flapping link, a clock bump and a power loss.
void chatty_world(SimWorld& w, const ScenarioConfig& config) {
  w.add_disk("dc1", {});
  DiskOptions dc2;
  dc2.latency_jitter_us = 200;
  w.add_disk("dc2", dc2);
  const std::vector<NodeId> ids{NodeId(1), NodeId(2), NodeId(3), NodeId(4), NodeId(5)};
  auto disk_of = [](NodeId id) { return id.value <= 2 ? "dc1" : "dc2"; };
  w.network().set_classifier([disk_of](NodeId a, NodeId b) {
    LinkModel m = std::string(disk_of(a)) == disk_of(b) ? LinkModel::lan() : LinkModel::wan();
    m.drop_probability = 0.1;
    m.duplicate_probability = 0.1;
    m.reorder_probability = 0.1;
    m.queue_messages_max = 8;
    return m;
  });
  for (NodeId id : ids) {
    std::vector<NodeId> peers;
    for (NodeId p : ids) {
      if (p != id) peers.push_back(p);
    }
    const int* salt = id == NodeId(3) ? config.salt_of_node3 : nullptr;
    w.add_node(id, disk_of(id),
               [peers, salt](Env& env) { return std::make_unique<Chatter>(env, peers, salt); });
  }
  EventLoop& loop = w.loop();
  Network& net = w.network();
  loop.at(100 * kUsPerMs, [&] { net.partition(NodeId(1), NodeId(3)); });
  loop.at(150 * kUsPerMs, [&] { net.block(NodeId(5), NodeId(2)); });
  loop.at(200 * kUsPerMs, [&] { net.heal(NodeId(1), NodeId(3)); });
  loop.at(250 * kUsPerMs, [&] { net.isolate(NodeId(4)); });
  loop.at(300 * kUsPerMs, [&] { w.crash(NodeId(2)); });
  loop.at(350 * kUsPerMs, [&] { w.restart(NodeId(2)); });
  loop.at(400 * kUsPerMs, [&] { net.heal_all(); });
  loop.at(450 * kUsPerMs,
          [&] { net.flapping(NodeId(1), NodeId(4), 20 * kUsPerMs, 600 * kUsPerMs); });
  loop.at(500 * kUsPerMs, [&] { w.pause(NodeId(3)); });
  loop.at(550 * kUsPerMs, [&] { w.resume(NodeId(3)); });
  loop.at(600 * kUsPerMs, [&] {
    net.split({{NodeId(1), NodeId(2)}, {NodeId(3), NodeId(4), NodeId(5)}});
  });
  loop.at(650 * kUsPerMs, [&] { w.power_loss("dc2"); });
  loop.at(700 * kUsPerMs, [&] {
    for (uint32_t id : {3u, 4u, 5u}) w.restart(NodeId(id));
    net.heal_all();
  });
  loop.at(750 * kUsPerMs, [&] { w.bump_clock(NodeId(1), 50 * kUsPerMs); });
  w.run_until(kUsPerSec);
}

WorldOptions options(uint64_t seed) {
  WorldOptions o;
  o.seed = seed;
  return o;
}

TEST(WorldDeterminism, SameSeedGivesTheSameTraceHash) {
  for (uint64_t seed : {1ull, 2ull, 977ull}) {
    const DeterminismReport r = run_twice(options(seed), [](SimWorld& w) { chatty_world(w, {}); });
    EXPECT_TRUE(r.identical) << "seed " << seed << ": " << r.divergence;
    EXPECT_EQ(r.divergence, "no divergence");
    EXPECT_EQ(r.events_first, r.events_second);
    EXPECT_GT(r.events_first, 1000u);
  }
}

TEST(WorldDeterminism, TheScenarioExercisesEveryKindOfFault) {
  SimWorld w(options(1));
  chatty_world(w, {});
  const NetworkCounters& c = w.network().counters();
  EXPECT_GT(c.delivered, 500u);
  EXPECT_GT(c.dropped_random, 0u);
  EXPECT_GT(c.dropped_partition, 0u);
  EXPECT_GT(c.dropped_node_down, 0u);
  EXPECT_GT(c.duplicated, 0u);
  EXPECT_GT(c.reordered, 0u);
  for (const char* kind : {"partition", "block", "isolate", "crash", "restart", "pause", "resume",
                           "flapping", "split", "power_loss", "clock_bump"}) {
    EXPECT_GE(w.faults().count(kind), 1u) << kind;
  }
  EXPECT_FALSE(w.event_limit_reached());
}

TEST(WorldDeterminism, DifferentSeedsGiveDifferentHashes) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SimWorld w(options(seed));
    chatty_world(w, {});
    hashes.insert(w.trace().hash());
  }
  EXPECT_EQ(hashes.size(), 6u);
}

TEST(WorldDeterminism, BuggifySwitchChangesTheRun) {
  WorldOptions off = options(8);
  off.buggify = false;
  SimWorld a(options(8)), b(off);
  chatty_world(a, {});
  chatty_world(b, {});
  EXPECT_EQ(b.buggify().fired_total(), 0u);
  if (a.buggify().fired_total() > 0) {
    EXPECT_NE(a.trace().hash(), b.trace().hash());
  }
}

// A static that survives between runs is exactly the bug this machinery exists to find.
int g_runs_so_far = 0;

TEST(WorldDeterminism, PlantedNondeterminismIsNamedByTheDivergenceReport) {
  g_runs_so_far = 0;
  std::vector<TimeUs> first_send_of_node3;
  const DeterminismReport r = run_twice(options(21), [&](SimWorld& w) {
    ++g_runs_so_far;  // differs between the two runs: node 3's payloads differ
    chatty_world(w, ScenarioConfig{&g_runs_so_far});
    for (const TraceEvent& e : w.trace().events()) {
      if (e.node == 3 && std::string(e.kind) == "net_send") {
        first_send_of_node3.push_back(e.time_us);
        break;
      }
    }
  });
  EXPECT_FALSE(r.identical);
  ASSERT_EQ(first_send_of_node3.size(), 2u);
  ASSERT_EQ(first_send_of_node3[0], first_send_of_node3[1]);  // same until the payload
  const std::string at = "t=" + std::to_string(first_send_of_node3[0]) + "us node=3 kind=net_send";
  EXPECT_NE(r.divergence.find("run A: " + at), std::string::npos) << r.divergence;
  EXPECT_NE(r.divergence.find("run B: " + at), std::string::npos) << r.divergence;
}

TEST(WorldDeterminism, EventLimitBoundsARun) {
  WorldOptions o = options(4);
  o.events_max = 500;
  SimWorld w(o);
  chatty_world(w, {});
  EXPECT_TRUE(w.event_limit_reached());
  EXPECT_EQ(w.loop().events_run(), 500u);
}

}  // namespace
}  // namespace replsim::sim
