#include "sim/event_loop.h"

#include <gtest/gtest.h>

#include <vector>

namespace replsim::sim {
namespace {

TEST(EventLoopTest, RunsInTimeThenScheduleOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.at(20, [&] { order.push_back(3); });
  loop.at(10, [&] { order.push_back(1); });
  loop.at(10, [&] { order.push_back(2); });  // same time: scheduling order breaks the tie
  loop.run_until(100);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.now(), 100);
}

TEST(EventLoopTest, CancelledEventsNeverRunAndStaleIdsAreHarmless) {
  EventLoop loop;
  int ran = 0;
  EventId a = loop.after(5, [&] { ++ran; });
  loop.cancel(a);
  loop.run_until(10);
  EXPECT_EQ(ran, 0);
  EventId b = loop.after(5, [&] { ++ran; });  // may reuse a's slot
  loop.cancel(a);                             // stale id: must not cancel b
  loop.run_until(20);
  EXPECT_EQ(ran, 1);
  loop.cancel(b);  // already fired: no-op
  EXPECT_EQ(loop.pending(), 0u);
}

TEST(EventLoopTest, EventLimitStopsARunawayRun) {
  EventLoop loop;
  std::function<void()> again = [&] { loop.after(1, again); };
  loop.after(1, again);
  loop.set_event_limit(1000);
  loop.run_until(1'000'000);
  EXPECT_TRUE(loop.event_limit_reached());
  EXPECT_EQ(loop.events_run(), 1000u);
}

TEST(EventLoopTest, RunWhileStopsOnPredicate) {
  EventLoop loop;
  int count = 0;
  for (int i = 0; i < 10; ++i) loop.at(i, [&] { ++count; });
  loop.run_while([&] { return count < 4; });
  EXPECT_EQ(count, 4);
  EXPECT_EQ(loop.now(), 3);
}

}  // namespace
}  // namespace replsim::sim
