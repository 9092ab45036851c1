// Processes, clocks and files as one node sees them through its SimEnv.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/world.h"

namespace replsim::sim {
namespace {

constexpr ClockModel kExactClock{0, 0.0};

// A process whose behaviour the test scripts through `on_boot`; it logs what reaches it.
struct Scripted final : Process {
  Scripted(Env& env, std::vector<std::string>* log) : env(env), log(log) {
    env.set_receiver([this](NodeId from, std::string payload) {
      this->log->push_back("msg " + payload + " @" + std::to_string(this->env.now_us()));
    });
  }
  void note(const std::string& what) { log->push_back(what + " @" + std::to_string(env.now_us())); }
  Env& env;
  std::vector<std::string>* log;
  std::unique_ptr<File> file;
};

LinkModel fixed_link(TimeUs latency_us) {
  LinkModel m;
  m.latency_min_us = latency_us;
  m.latency_tail_mean_us = 0;
  return m;
}

class ProcessFixture : public ::testing::Test {
 protected:
  ProcessFixture() : world_(options()) {}
  static WorldOptions options() {
    WorldOptions o;
    o.seed = 11;
    return o;
  }
  // Adds node `id` on `disk` with an exact clock; `boot` runs after the first incarnation's
  // Scripted is made.
  void add(uint32_t id, const std::string& disk, std::function<void(Scripted&)> boot = {}) {
    world_.add_node(NodeId(id), disk, kExactClock, [this, id, boot](Env& env) {
      ++boots_;
      auto p = std::make_unique<Scripted>(env, &log_);
      if (boot && world_.incarnation(NodeId(id)) == 1) boot(*p);
      return p;
    });
  }
  Scripted& proc(uint32_t id) { return static_cast<Scripted&>(*world_.process(NodeId(id))); }

  SimWorld world_;
  std::vector<std::string> log_;
  int boots_ = 0;
};

TEST_F(ProcessFixture, PauseHoldsTimersDeliveriesAndIoUntilResumeThenRunsThemInOrder) {
  DiskOptions disk;
  disk.fsync_latency_us = 1000;
  world_.add_disk("d", disk);
  add(1, "d", [](Scripted& p) {
    p.env.schedule(10 * kUsPerMs, [&p] { p.note("timer"); });
    p.file = std::move(p.env.fs().open("f", true).value());
    p.env.schedule(4500, [&p] {
      p.file->sync([&p](Status s) { p.note("sync " + std::string(s.is_ok() ? "ok" : "err")); });
    });
  });
  add(2, "");
  world_.network().set_link_model(NodeId(2), NodeId(1), fixed_link(500));
  world_.loop().at(5 * kUsPerMs, [this] { world_.pause(NodeId(1)); });
  world_.loop().at(5500, [this] { world_.env(NodeId(2))->send(NodeId(1), "hello"); });
  world_.run_until(20 * kUsPerMs);
  EXPECT_TRUE(log_.empty());  // sync done at 5.5 ms, message at 6 ms, timer at 10 ms: all held
  EXPECT_EQ(world_.env(NodeId(1))->held(), 3u);
  world_.resume(NodeId(1));
  world_.run_until(30 * kUsPerMs);
  EXPECT_EQ(log_, (std::vector<std::string>{"sync ok @20000", "msg hello @20000", "timer @20000"}));
  EXPECT_EQ(world_.faults().count("pause"), 1u);
  EXPECT_EQ(world_.faults().count("resume"), 1u);
}

TEST_F(ProcessFixture, CallbacksDueAtResumeTimeRunAfterTheHeldOnes) {
  add(1, "", [](Scripted& p) { p.env.schedule(2000, [&p] { p.note("timer"); }); });
  add(2, "");
  world_.network().set_link_model(NodeId(2), NodeId(1), fixed_link(1000));
  world_.pause(NodeId(1));
  world_.loop().at(5000, [this] { world_.resume(NodeId(1)); });  // before the arrival below
  world_.loop().at(4000, [this] { world_.env(NodeId(2))->send(NodeId(1), "at 5 ms"); });
  world_.run_until(10000);
  EXPECT_EQ(log_, (std::vector<std::string>{"timer @5000", "msg at 5 ms @5000"}));
}

TEST_F(ProcessFixture, TimerCancelledWhilePausedNeverRuns) {
  TimerId id = kNoTimer;
  add(1, "", [&id](Scripted& p) { id = p.env.schedule(1000, [&p] { p.note("timer"); }); });
  world_.pause(NodeId(1));
  world_.run_until(5000);
  world_.env(NodeId(1))->cancel(id);
  world_.resume(NodeId(1));
  world_.run_until(10000);
  EXPECT_TRUE(log_.empty());
}

TEST_F(ProcessFixture, CrashDropsTimersDeliveriesAndIoCallbacksButKeepsWrittenData) {
  DiskOptions disk;
  disk.write_latency_us = 2000;
  world_.add_disk("d", disk);
  add(1, "d", [](Scripted& p) {
    p.env.schedule(10 * kUsPerMs, [&p] { p.note("timer"); });
    p.file = std::move(p.env.fs().open("f", true).value());
    p.file->append("written", [&p](Status) { p.note("append done"); });
  });
  add(2, "");
  world_.network().set_link_model(NodeId(2), NodeId(1), fixed_link(1000));
  world_.env(NodeId(2))->send(NodeId(1), "early");
  world_.run_until(500);
  world_.crash(NodeId(1));
  EXPECT_FALSE(world_.up(NodeId(1)));
  EXPECT_EQ(world_.process(NodeId(1)), nullptr);
  world_.run_until(50 * kUsPerMs);
  EXPECT_TRUE(log_.empty());
  EXPECT_EQ(world_.network().counters().dropped_node_down, 1u);
  EXPECT_EQ(world_.disk("d").cached_contents("f"), "written");  // the OS cache survives
  EXPECT_EQ(world_.faults().count("crash"), 1u);
}

TEST_F(ProcessFixture, RestartBootsANewIncarnationThatSeesTheOldData) {
  world_.add_disk("d", {});
  world_.add_node(NodeId(1), "d", kExactClock, [this](Env& env) {  // runs at every boot
    ++boots_;
    auto p = std::make_unique<Scripted>(env, &log_);
    p->file = std::move(env.fs().open("f", true).value());
    p->file->append("gen" + std::to_string(env.random().uniform(1000000)), [](Status) {});
    return p;
  });
  world_.run_until(kUsPerMs);
  const std::string first = world_.disk("d").cached_contents("f");
  EXPECT_EQ(world_.incarnation(NodeId(1)), 1u);
  world_.crash(NodeId(1));
  world_.restart(NodeId(1));
  world_.run_until(2 * kUsPerMs);
  EXPECT_EQ(boots_, 2);
  EXPECT_EQ(world_.incarnation(NodeId(1)), 2u);
  EXPECT_EQ(world_.env(NodeId(1))->incarnation(), 2u);
  const std::string both = world_.disk("d").cached_contents("f");
  ASSERT_GT(both.size(), first.size());
  EXPECT_EQ(both.substr(0, first.size()), first);
  // A restart gets a fresh random stream: the same draws would repeat nonces.
  EXPECT_NE(both.substr(first.size()), first);
  // Messages now reach the new incarnation.
  add(2, "");
  world_.env(NodeId(2))->send(NodeId(1), "to new");
  world_.run_until(10 * kUsPerMs);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].substr(0, 10), "msg to new");
}

TEST_F(ProcessFixture, PowerLossCrashesEveryNodeOnThatDiskAndKeepsOnlySyncedData) {
  world_.add_disk("c1", {});
  world_.add_disk("c2", {});
  add(1, "c1", [](Scripted& p) {
    p.file = std::move(p.env.fs().open("f", true).value());
    p.env.fs().sync_dir([](Status) {});
    p.file->append("synced.", [](Status) {});
    p.file->sync([&p](Status s) {
      p.note("synced");
      p.file->append("unsynced-tail", [](Status) {});
    });
  });
  add(2, "c1");
  add(3, "c2");
  world_.run_until(10 * kUsPerMs);
  ASSERT_EQ(log_.size(), 1u);
  world_.power_loss("c1");
  EXPECT_FALSE(world_.up(NodeId(1)));
  EXPECT_FALSE(world_.up(NodeId(2)));
  EXPECT_TRUE(world_.up(NodeId(3)));
  EXPECT_EQ(world_.faults().count("power_loss"), 1u);
  EXPECT_EQ(world_.faults().count("crash"), 2u);
  world_.restart(NodeId(1));
  std::unique_ptr<File> f = std::move(world_.env(NodeId(1))->fs().open("f", false).value());
  std::string got;
  ASSERT_TRUE(f->read(0, 1000, &got).is_ok());
  const std::string all = "synced.unsynced-tail";
  ASSERT_GE(got.size(), 7u);
  EXPECT_EQ(got, all.substr(0, got.size()));  // synced data plus a prefix of the tail
}

TEST_F(ProcessFixture, DiskFullAndFsyncFailureComeBackAsErrorsThroughEnv) {
  DiskOptions disk;
  disk.capacity_bytes = 1000;
  world_.add_disk("d", disk);
  world_.disk("d").fail_next_syncs(1);  // the first sync issued fails
  std::vector<Status> results;
  add(1, "d", [&results](Scripted& p) {
    p.file = std::move(p.env.fs().open("f", true).value());
    auto keep = [&results](Status s) { results.push_back(s); };
    p.file->append(std::string(800, 'a'), keep);
    p.file->append(std::string(300, 'b'), keep);  // would pass capacity
    p.file->sync(keep);                           // fails
    p.file->sync(keep);
  });
  world_.run_until(kUsPerSec);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].is_ok());
  EXPECT_EQ(results[1].code(), StatusCode::kNoSpace);
  EXPECT_EQ(results[2].code(), StatusCode::kIoError);
  EXPECT_TRUE(results[3].is_ok());
  EXPECT_EQ(proc(1).file->size(), 800u);  // the refused append changed nothing
  Result<std::unique_ptr<File>> big = proc(1).env.fs().open("g", true);
  if (big.is_ok()) {
    Status s;
    big.value()->append(std::string(500, 'c'), [&s](Status st) { s = st; });
    world_.run_until(2 * kUsPerSec);
    EXPECT_EQ(s.code(), StatusCode::kNoSpace);
  } else {
    EXPECT_EQ(big.status().code(), StatusCode::kNoSpace);
  }
  EXPECT_TRUE(world_.up(NodeId(1)));
}

TEST_F(ProcessFixture, ClockOffsetAndDriftAreVisibleInNowAndTimers) {
  std::vector<TimeUs> fired_global;
  world_.add_node(NodeId(1), "", ClockModel{250 * kUsPerMs, 100.0}, [&](Env& env) {
    env.schedule(kUsPerSec, [&] { fired_global.push_back(world_.now()); });
    return std::make_unique<Scripted>(env, &log_);
  });
  world_.add_node(NodeId(2), "", ClockModel{0, -100.0}, [&](Env& env) {
    env.schedule(kUsPerSec, [&] { fired_global.push_back(world_.now()); });
    return std::make_unique<Scripted>(env, &log_);
  });
  EXPECT_EQ(world_.node_now_us(NodeId(1)), 250 * kUsPerMs);
  world_.run_until(10 * kUsPerSec);
  // A fast clock (+100 ppm) reaches 1 s of its own time early; a slow one late.
  EXPECT_EQ(fired_global, (std::vector<TimeUs>{999901, 1000101}));
  EXPECT_EQ(world_.env(NodeId(1))->now_us(), 10 * kUsPerSec + 250 * kUsPerMs + 1000);
  EXPECT_EQ(world_.env(NodeId(2))->now_us(), 10 * kUsPerSec - 1000);
}

TEST_F(ProcessFixture, ClockBumpForwardIsSeenAndBackwardNeverRunsTheClockBack) {
  add(1, "");
  world_.run_until(kUsPerSec);
  world_.bump_clock(NodeId(1), 5 * kUsPerSec);
  EXPECT_EQ(world_.env(NodeId(1))->now_us(), 6 * kUsPerSec);
  world_.bump_clock(NodeId(1), -8 * kUsPerSec);
  EXPECT_EQ(world_.env(NodeId(1))->now_us(), 6 * kUsPerSec);  // stalls, monotonic
  world_.run_until(10 * kUsPerSec);
  EXPECT_EQ(world_.env(NodeId(1))->now_us(), 7 * kUsPerSec);
  EXPECT_EQ(world_.faults().count("clock_bump"), 2u);
}

TEST(ProcessClocks, RandomClocksAreOnByDefaultAndBounded) {
  WorldOptions o;
  o.seed = 5;
  SimWorld world(o);
  std::vector<std::string> log;
  for (uint32_t i = 1; i <= 50; ++i) {
    world.add_node(NodeId(i), "",
                   [&log](Env& env) { return std::make_unique<Scripted>(env, &log); });
  }
  TimeUs offset_min = INT64_MAX, offset_max = INT64_MIN;
  double drift_min = 1e9, drift_max = -1e9;
  for (NodeId id : world.nodes()) {
    const NodeClock& c = world.clock(id);
    offset_min = std::min(offset_min, c.offset_us());
    offset_max = std::max(offset_max, c.offset_us());
    drift_min = std::min(drift_min, c.drift_ppm());
    drift_max = std::max(drift_max, c.drift_ppm());
  }
  EXPECT_GE(offset_min, 0);
  EXPECT_LE(offset_max, o.clock_offset_max_us);
  EXPECT_GE(drift_min, -o.clock_drift_max_ppm);
  EXPECT_LE(drift_max, o.clock_drift_max_ppm);
  EXPECT_GT(offset_max - offset_min, 200 * kUsPerMs);  // they really differ
  EXPECT_LT(drift_min, -50.0);
  EXPECT_GT(drift_max, 50.0);
}

TEST(ProcessBuggify, EnvBuggifyFollowsTheWorldOptionAndIsCounted) {
  for (bool on : {false, true}) {
    WorldOptions o;
    o.seed = 3;
    o.buggify = on;
    SimWorld world(o);
    std::vector<std::string> log;
    int fired = 0;
    world.add_node(NodeId(1), "", [&](Env& env) {
      for (int i = 0; i < 400; ++i) fired += env.buggify("site" + std::to_string(i % 40));
      return std::make_unique<Scripted>(env, &log);
    });
    EXPECT_EQ(fired, static_cast<int>(world.buggify().fired_total()));
    if (on) {
      EXPECT_GT(fired, 0);
      EXPECT_EQ(world.buggify().sites().size(), 40u);
    } else {
      EXPECT_EQ(fired, 0);
    }
  }
}

TEST(ProcessAssertHook, AssertionFailurePrintsSeedAndReproductionCommand) {
  WorldOptions o;
  o.seed = 4242;
  o.repro_command = "replsim run --seed={seed} --scenario=x";
  EXPECT_DEATH(
      {
        SimWorld world(o);
        REPLSIM_ASSERT(world.now() == 1);
      },
      "seed=4242 .*reproduce: replsim run --seed=4242 --scenario=x");
}

}  // namespace
}  // namespace replsim::sim
