#include "sim/event_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
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

// Mostly-cancelled long timers (request timeouts) compact away; the survivors still run in
// (time, schedule order), no cancelled event runs, and ids freed by compaction stay stale.
TEST(EventLoopTest, CompactionKeepsOrderAndBoundsTheHeap) {
  EventLoop loop;
  std::vector<std::pair<TimeUs, int>> ran;
  std::vector<EventId> ids;
  std::vector<std::pair<TimeUs, int>> expected;
  uint64_t x = 12345;
  auto next = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull; };
  size_t heap_max = 0;
  for (int i = 0; i < 20000; ++i) {
    const TimeUs t = 1000 + static_cast<TimeUs>((next() >> 33) % 500);
    ids.push_back(loop.at(t, [&ran, t, i] { ran.emplace_back(t, i); }));
    if (i % 10 == 3) {
      expected.emplace_back(t, i);
    } else {
      loop.cancel(ids.back());
    }
    heap_max = std::max(heap_max, loop.heap_entries());
  }
  EXPECT_EQ(loop.pending(), expected.size());
  EXPECT_LT(heap_max, 2 * expected.size() + 1100);
  for (EventId id : ids) loop.cancel(id);  // stale or live: cancels exactly the live ones
  EXPECT_EQ(loop.pending(), 0u);
  loop.run_until(5000);
  EXPECT_TRUE(ran.empty());

  // Again without the blanket cancel: the survivors run in order.
  ids.clear();
  for (int i = 0; i < 20000; ++i) {
    const TimeUs t = 6000 + static_cast<TimeUs>((next() >> 33) % 500);
    EventId id = loop.at(t, [&ran, t, i] { ran.emplace_back(t, i); });
    if (i % 10 != 3) loop.cancel(id);
  }
  loop.run_until(10000);
  // (time, index) order is (time, schedule order): index i was scheduled i-th.
  EXPECT_EQ(ran.size(), 2000u);
  EXPECT_TRUE(std::is_sorted(ran.begin(), ran.end()));
  for (const auto& [t, i] : ran) EXPECT_EQ(i % 10, 3);
}

// Small callables live in the slot, large ones on the heap: either way each one runs once,
// moves keep it, and every copy made is destroyed exactly once (no leak, no double free).
TEST(EventLoopTest, CallbacksOfAnySizeRunOnceAndAreDestroyedOnce) {
  static int alive = 0;
  struct Counted {
    Counted() { ++alive; }
    Counted(const Counted&) { ++alive; }
    Counted(Counted&&) noexcept { ++alive; }
    ~Counted() { --alive; }
  };
  std::vector<int> ran;
  {
    EventLoop loop;
    Counted small_tag;
    std::array<char, 200> big{};
    big[7] = 'x';
    loop.at(2, [&ran, small_tag] { ran.push_back(2); });
    loop.at(1, [&ran, small_tag, big] { ran.push_back(big[7] == 'x' ? 1 : -1); });
    std::function<void()> wrapped = [&ran, small_tag] { ran.push_back(3); };
    loop.at(3, wrapped);
    const EventId cancelled = loop.at(4, [&ran, small_tag, big] { ran.push_back(4); });
    loop.cancel(cancelled);
    loop.at(5, [&ran, small_tag, big] { ran.push_back(5); });  // never run: loop destroyed
    loop.run_until(3);
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  }
  EXPECT_EQ(alive, 0);
}

TEST(EventLoopTest, ManyPendingEventsKeepTimeThenScheduleOrderAcrossTheWheel) {
  // Times far past the wheel's span (kept in the heap, moved into the wheel as time passes)
  // and near ones interleave; equal times run in schedule order.
  EventLoop loop;
  std::vector<std::pair<TimeUs, int>> ran;
  uint64_t x = 99;
  auto next = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull; };
  int n = 0;
  for (int i = 0; i < 5000; ++i, ++n) {
    const TimeUs t = static_cast<TimeUs>((next() >> 33) % 50000);
    loop.at(t, [&ran, t, n] { ran.emplace_back(t, n); });
  }
  // Events scheduled while running land beside older ones at the same time.
  loop.at(20000, [&] {
    for (int i = 0; i < 500; ++i) {
      const TimeUs t = loop.now() + static_cast<TimeUs>((next() >> 33) % 30000);
      const int id = 100000 + i;
      loop.at(t, [&ran, t, id] { ran.emplace_back(t, id); });
    }
  });
  loop.run_until(100000);
  EXPECT_EQ(ran.size(), 5500u);
  EXPECT_TRUE(std::is_sorted(ran.begin(), ran.end()));
  EXPECT_EQ(loop.pending(), 0u);
}

}  // namespace
}  // namespace replsim::sim
