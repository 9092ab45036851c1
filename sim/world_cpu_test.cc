// A node with a simulated CPU: messages wait for a core, the node's throughput is bounded by
// its cores, and work queued for an incarnation that crashed never reaches the next one.
#include <gtest/gtest.h>

#include <vector>

#include "sim/world.h"

namespace replsim::sim {
namespace {

class Sink final : public Process {
 public:
  Sink(Env& env, std::vector<TimeUs>* arrivals) {
    env.set_receiver([&env, arrivals](NodeId, std::string) { arrivals->push_back(env.now_us()); });
  }
};

class Source final : public Process {
 public:
  Source(Env& env, NodeId to, int messages) {
    for (int i = 0; i < messages; ++i) env.send(to, "work");
  }
};

struct CpuWorld {
  explicit CpuWorld(CpuOptions cpu) : world(options()) {
    LinkModel fixed;
    fixed.latency_min_us = 1000;
    fixed.latency_tail_mean_us = 0;
    world.network().set_link_model(NodeId(1), NodeId(2), fixed);
    world.add_node(NodeId(2), "", ClockModel{},
                   [this](Env& env) { return std::make_unique<Sink>(env, &arrivals); });
    world.set_cpu(NodeId(2), cpu, [](std::string_view) { return TimeUs{100}; });
  }
  static WorldOptions options() {
    WorldOptions o;
    o.random_clocks = false;
    o.buggify = false;
    return o;
  }
  void send(int messages) {
    world.add_node(NodeId(1), "", ClockModel{}, [messages](Env& env) {
      return std::make_unique<Source>(env, NodeId(2), messages);
    });
  }
  std::vector<TimeUs> arrivals;
  SimWorld world;
};

TEST(WorldCpu, MessagesWaitForACoreAndThroughputIsBounded) {
  CpuWorld w({.cores = 2, .queue_items_max = 1000});
  w.send(10);
  w.world.run_for(kUsPerSec);
  ASSERT_EQ(w.arrivals.size(), 10u);
  // Two cores, 100 us each: pairs finish 100 us apart after the 1 ms link.
  EXPECT_EQ(w.arrivals.front(), 1100);
  EXPECT_EQ(w.arrivals.back(), 1500);
  EXPECT_EQ(w.world.cpu(NodeId(2))->stats().completed, 10u);
}

TEST(WorldCpu, FullQueueDropsMessages) {
  CpuWorld w({.cores = 1, .queue_items_max = 3});
  w.send(10);
  w.world.run_for(kUsPerSec);
  EXPECT_EQ(w.arrivals.size(), 4u);  // one in service + three waiting
  EXPECT_EQ(w.world.cpu(NodeId(2))->stats().refused, 6u);
}

TEST(WorldCpu, WorkOfACrashedIncarnationNeverReachesTheNext) {
  CpuWorld w({.cores = 1, .queue_items_max = 1000});
  w.send(10);
  w.world.run_until(1250);  // the link delivered all ten at 1 ms; one finished service
  w.world.crash(NodeId(2));
  w.world.restart(NodeId(2));
  w.world.run_for(kUsPerSec);
  EXPECT_EQ(w.arrivals.size(), 2u) << "only what finished before the crash";
}

}  // namespace
}  // namespace replsim::sim
