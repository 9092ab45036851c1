// SimCpu: queueing in virtual time — capacity is cores / service time, latency grows under
// overload, the queue is bounded, and the model can be switched off.
#include "sim/cpu.h"

#include <gtest/gtest.h>

#include <vector>

namespace replsim::sim {
namespace {

TEST(SimCpu, OneCoreServesInOrderAndQueues) {
  EventLoop loop;
  SimCpu cpu(loop, {.cores = 1, .queue_items_max = 10});
  std::vector<TimeUs> done;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cpu.submit(100, [&] { done.push_back(loop.now()); }));
  }
  EXPECT_EQ(cpu.queued(), 2u);
  loop.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{100, 200, 300}));
  EXPECT_EQ(cpu.stats().wait_us_total, 0 + 100 + 200);
  EXPECT_EQ(cpu.queued(), 0u);
}

TEST(SimCpu, CoresWorkInParallel) {
  EventLoop loop;
  SimCpu cpu(loop, {.cores = 4, .queue_items_max = 10});
  std::vector<TimeUs> done;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(cpu.submit(100, [&] { done.push_back(loop.now()); }));
  }
  loop.run_until(1000);
  EXPECT_EQ(done, (std::vector<TimeUs>{100, 100, 100, 100, 200, 200, 200, 200}));
}

TEST(SimCpu, ThroughputSaturatesAndLatencyGrowsUnderOverload) {
  EventLoop loop;
  SimCpu cpu(loop, {.cores = 2, .queue_items_max = 1'000'000});
  // Offered: one 100 us item every 25 us (4x the 2-core capacity of one per 50 us).
  uint64_t completed_by_1s = 0;
  for (TimeUs t = 0; t < 1'000'000; t += 25) {
    loop.at(t, [&] {
      ASSERT_TRUE(cpu.submit(100, [&] {
        if (loop.now() <= 1'000'000) ++completed_by_1s;
      }));
    });
  }
  loop.run_until(1'000'000);
  // Capacity (one per 50 us), not the 40,000 offered; run_until stops before 1 s itself.
  EXPECT_GE(completed_by_1s, 19'998u);
  EXPECT_LE(completed_by_1s, 20'000u);
  EXPECT_GT(cpu.stats().wait_us_max, 400'000);
  EXPECT_NEAR(cpu.utilization(), 1.0, 1e-3);
}

TEST(SimCpu, FullQueueRefusesInsteadOfGrowing) {
  EventLoop loop;
  SimCpu cpu(loop, {.cores = 1, .queue_items_max = 2});
  int ran = 0;
  EXPECT_TRUE(cpu.submit(100, [&] { ++ran; }));   // in service
  EXPECT_TRUE(cpu.submit(100, [&] { ++ran; }));   // waits
  EXPECT_TRUE(cpu.submit(100, [&] { ++ran; }));   // waits
  EXPECT_FALSE(cpu.submit(100, [&] { ++ran; }));  // refused
  EXPECT_EQ(cpu.stats().refused, 1u);
  loop.run_until(150);  // the first finished, the second started: room for one
  EXPECT_TRUE(cpu.submit(100, [&] { ++ran; }));
  loop.run_until(10'000);
  EXPECT_EQ(ran, 4);
}

TEST(SimCpu, ZeroCoresIsTheZeroTimeWorld) {
  EventLoop loop;
  SimCpu cpu(loop, {.cores = 0});
  TimeUs at = -1;
  loop.at(500, [&] { ASSERT_TRUE(cpu.submit(1'000'000, [&] { at = loop.now(); })); });
  loop.run_until(10'000);
  EXPECT_EQ(at, 500);
  EXPECT_EQ(cpu.utilization(), 0.0);
}

}  // namespace
}  // namespace replsim::sim
