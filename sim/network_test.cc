#include "sim/network.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace replsim::sim {
namespace {

struct Arrival {
  NodeId from;
  NodeId to;
  std::string payload;
  TimeUs time_us;
};

// A network with nodes 1..n whose endpoints record every arrival.
class NetworkFixture : public ::testing::Test {
 protected:
  void make(int nodes, uint64_t seed = 7) {
    net_ = std::make_unique<Network>(loop_, Prng(seed), &faults_, &trace_);
    for (int i = 1; i <= nodes; ++i) {
      NodeId to(i);
      net_->set_endpoint(to, [this, to](NodeId from, std::string payload) {
        arrivals_.push_back({from, to, std::move(payload), loop_.now()});
      });
    }
  }
  // Sends one message from→to, runs the loop dry, says whether it arrived.
  bool reaches(uint32_t from, uint32_t to) {
    const size_t before = arrivals_.size();
    net_->send(NodeId(from), NodeId(to), "probe");
    loop_.run_until(loop_.now() + kUsPerSec);
    return arrivals_.size() == before + 1;
  }
  static LinkModel fixed(TimeUs latency_us) {
    LinkModel m;
    m.latency_min_us = latency_us;
    m.latency_tail_mean_us = 0;
    return m;
  }

  EventLoop loop_;
  FaultRecorder faults_;
  Trace trace_;
  std::unique_ptr<Network> net_;
  std::vector<Arrival> arrivals_;
};

TEST_F(NetworkFixture, OneWayBlockStopsOnlyThatDirection) {
  make(3);
  net_->block(NodeId(1), NodeId(2));
  EXPECT_FALSE(reaches(1, 2));
  EXPECT_TRUE(reaches(2, 1));
  EXPECT_TRUE(reaches(1, 3));
  EXPECT_TRUE(reaches(3, 2));
  net_->heal(NodeId(1), NodeId(2));
  EXPECT_TRUE(reaches(1, 2));
  EXPECT_EQ(faults_.count("block"), 1u);
  EXPECT_EQ(faults_.count("heal"), 1u);
  EXPECT_EQ(net_->counters().dropped_partition, 1u);
}

TEST_F(NetworkFixture, SymmetricPartitionStopsBothDirectionsAndHealRestores) {
  make(3);
  net_->partition(NodeId(1), NodeId(2));
  EXPECT_FALSE(reaches(1, 2));
  EXPECT_FALSE(reaches(2, 1));
  EXPECT_TRUE(reaches(1, 3));
  EXPECT_TRUE(reaches(2, 3));
  net_->heal_all();
  EXPECT_TRUE(reaches(1, 2));
  EXPECT_TRUE(reaches(2, 1));
}

TEST_F(NetworkFixture, IsolateCutsOneNodeFromEveryOther) {
  make(4);
  net_->isolate(NodeId(2));
  for (uint32_t other : {1u, 3u, 4u}) {
    EXPECT_FALSE(reaches(2, other));
    EXPECT_FALSE(reaches(other, 2));
  }
  EXPECT_TRUE(reaches(1, 3));
  EXPECT_TRUE(reaches(4, 1));
  EXPECT_EQ(faults_.count("isolate"), 1u);
}

TEST_F(NetworkFixture, SplitBlocksAcrossGroupsOnly) {
  make(5);
  net_->split({{NodeId(1), NodeId(2)}, {NodeId(3), NodeId(4), NodeId(5)}});
  EXPECT_TRUE(reaches(1, 2));
  EXPECT_TRUE(reaches(3, 5));
  EXPECT_TRUE(reaches(5, 4));
  for (uint32_t a : {1u, 2u}) {
    for (uint32_t b : {3u, 4u, 5u}) {
      EXPECT_FALSE(reaches(a, b));
      EXPECT_FALSE(reaches(b, a));
    }
  }
}

TEST_F(NetworkFixture, MessagesInFlightOnACutLinkAreLost) {
  make(2);
  net_->set_link_model(NodeId(1), NodeId(2), fixed(1000));
  net_->send(NodeId(1), NodeId(2), "in flight");
  loop_.run_until(500);
  net_->partition(NodeId(1), NodeId(2));
  loop_.run_until(5000);
  EXPECT_TRUE(arrivals_.empty());
  EXPECT_EQ(net_->counters().dropped_partition, 1u);
  EXPECT_EQ(net_->in_flight(NodeId(1), NodeId(2)), 0u);
}

TEST_F(NetworkFixture, FlappingAlternatesEveryPeriodThenHeals) {
  make(2);
  net_->set_link_model(NodeId(1), NodeId(2), fixed(100));
  const TimeUs period_us = 10 * kUsPerMs;
  net_->flapping(NodeId(1), NodeId(2), period_us, 100 * kUsPerMs);
  // One message every ms, at k ms + 0.5 ms (never on a flap boundary), arriving 0.1 ms later.
  for (int k = 0; k < 150; ++k) {
    loop_.at(k * kUsPerMs + 500,
             [this, k] { net_->send(NodeId(1), NodeId(2), std::to_string(k)); });
  }
  loop_.run_until(200 * kUsPerMs);
  std::vector<int> got;
  for (const Arrival& a : arrivals_) got.push_back(std::stoi(a.payload));
  std::vector<int> want;
  for (int k = 0; k < 150; ++k) {
    const bool blocked = k < 100 && (k / 10) % 2 == 0;  // blocked first, then every other
    if (!blocked) want.push_back(k);
  }
  EXPECT_EQ(got, want);
  EXPECT_FALSE(net_->blocked(NodeId(1), NodeId(2)));
  EXPECT_FALSE(net_->blocked(NodeId(2), NodeId(1)));
}

TEST_F(NetworkFixture, HealStopsFlapping) {
  make(2);
  net_->flapping(NodeId(1), NodeId(2), kUsPerMs, kUsPerSec);
  loop_.run_until(1500);  // unblocked phase at [1 ms, 2 ms)
  net_->heal(NodeId(1), NodeId(2));
  loop_.run_until(10 * kUsPerMs);
  EXPECT_FALSE(net_->blocked(NodeId(1), NodeId(2)));
  EXPECT_EQ(loop_.pending(), 0u);
}

TEST_F(NetworkFixture, DropDuplicateReorderRatesMatchSettings) {
  make(2, /*seed=*/12345);
  LinkModel m = LinkModel::lan();
  m.drop_probability = 0.2;
  m.duplicate_probability = 0.3;
  m.reorder_probability = 0.1;
  m.queue_messages_max = 100000;
  net_->set_link_model(NodeId(1), NodeId(2), m);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    loop_.at(i * 100, [this] { net_->send(NodeId(1), NodeId(2), "x"); });
  }
  loop_.run_until(10 * kUsPerSec);
  const NetworkCounters& c = net_->counters();
  EXPECT_EQ(c.sent, static_cast<uint64_t>(n));
  const double kept = static_cast<double>(c.sent - c.dropped_random);
  EXPECT_NEAR(static_cast<double>(c.dropped_random) / n, 0.2, 0.015);
  EXPECT_NEAR(static_cast<double>(c.duplicated) / kept, 0.3, 0.015);
  const double copies = kept + static_cast<double>(c.duplicated);
  EXPECT_NEAR(static_cast<double>(c.reordered) / copies, 0.1, 0.01);
  EXPECT_EQ(c.delivered, c.sent - c.dropped + c.duplicated);
  EXPECT_EQ(arrivals_.size(), c.delivered);
}

TEST_F(NetworkFixture, LinkIsFifoUnlessReorderedThenMessagesOvertake) {
  for (double reorder : {0.0, 0.2}) {
    arrivals_.clear();
    make(2);
    LinkModel m = LinkModel::wan();  // wide jitter: without FIFO, messages would cross
    m.reorder_probability = reorder;
    net_->set_link_model(NodeId(1), NodeId(2), m);
    for (int i = 0; i < 500; ++i) {
      loop_.at(loop_.now() + i * 100,
               [this, i] { net_->send(NodeId(1), NodeId(2), std::to_string(i)); });
    }
    loop_.run_until(loop_.now() + 10 * kUsPerSec);
    ASSERT_EQ(arrivals_.size(), 500u);
    int inversions = 0;
    for (size_t i = 1; i < arrivals_.size(); ++i) {
      inversions += std::stoi(arrivals_[i].payload) < std::stoi(arrivals_[i - 1].payload);
    }
    if (reorder == 0.0) {
      EXPECT_EQ(inversions, 0);
    } else {
      EXPECT_GT(inversions, 20);
    }
  }
}

TEST_F(NetworkFixture, LatencyFollowsLanAndWanModels) {
  make(3);
  net_->set_link_model(NodeId(1), NodeId(3), LinkModel::wan());
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    // Spaced far apart so FIFO never holds a message back.
    loop_.at(i * 100 * kUsPerMs, [this] {
      net_->send(NodeId(1), NodeId(2), "lan");
      net_->send(NodeId(1), NodeId(3), "wan");
    });
  }
  loop_.run_until(n * 100 * kUsPerMs + kUsPerSec);
  double lan_sum = 0, wan_sum = 0;
  TimeUs lan_min = INT64_MAX, wan_min = INT64_MAX;
  for (const Arrival& a : arrivals_) {
    const TimeUs latency = a.time_us % (100 * kUsPerMs);
    if (a.payload == "lan") {
      lan_sum += latency;
      lan_min = std::min(lan_min, latency);
    } else {
      wan_sum += latency;
      wan_min = std::min(wan_min, latency);
    }
  }
  EXPECT_NEAR(lan_sum / n, 500.0, 15.0);
  EXPECT_NEAR(wan_sum / n, 30000.0, 300.0);
  EXPECT_GE(lan_min, LinkModel::lan().latency_min_us);
  EXPECT_GE(wan_min, LinkModel::wan().latency_min_us);
}

TEST_F(NetworkFixture, BoundedQueueDropsBeyondItsBound) {
  make(2);
  LinkModel m = fixed(1000);
  m.queue_messages_max = 5;
  net_->set_link_model(NodeId(1), NodeId(2), m);
  for (int i = 0; i < 20; ++i) net_->send(NodeId(1), NodeId(2), std::to_string(i));
  EXPECT_EQ(net_->in_flight(NodeId(1), NodeId(2)), 5u);
  loop_.run_until(2000);
  ASSERT_EQ(arrivals_.size(), 5u);
  EXPECT_EQ(arrivals_.back().payload, "4");  // the first five got in, the rest were dropped
  EXPECT_EQ(net_->counters().dropped_queue_full, 15u);
  EXPECT_TRUE(reaches(1, 2));  // room again once delivered
  EXPECT_TRUE(reaches(2, 1));  // the other direction has its own bound
}

TEST_F(NetworkFixture, MessageToADownNodeIsDropped) {
  make(2);
  net_->set_up(NodeId(2), false);
  EXPECT_FALSE(reaches(1, 2));
  EXPECT_FALSE(reaches(1, 9));  // no such endpoint
  EXPECT_EQ(net_->counters().dropped_node_down, 2u);
  net_->set_up(NodeId(2), true);
  EXPECT_TRUE(reaches(1, 2));
}

TEST_F(NetworkFixture, ObserverSeesEveryMessageOnTheWireEvenDroppedOnes) {
  make(2);
  std::vector<std::string> wire;
  net_->add_observer([&](NodeId, NodeId, const std::string& p) { wire.push_back(p); });
  net_->block(NodeId(1), NodeId(2));
  net_->send(NodeId(1), NodeId(2), "blocked");
  net_->send(NodeId(2), NodeId(1), "open");
  loop_.run_until(kUsPerSec);
  EXPECT_EQ(wire, (std::vector<std::string>{"blocked", "open"}));
}

TEST_F(NetworkFixture, ClassifierChoosesModelsOfLinksWithoutAnExplicitOne) {
  make(4);
  net_->set_classifier([](NodeId a, NodeId b) {
    return (a.value <= 2) == (b.value <= 2) ? LinkModel::lan() : LinkModel::wan();
  });
  EXPECT_EQ(net_->link_model(NodeId(1), NodeId(2)).latency_min_us, LinkModel::lan().latency_min_us);
  EXPECT_EQ(net_->link_model(NodeId(1), NodeId(3)).latency_min_us, LinkModel::wan().latency_min_us);
  net_->set_link_model(NodeId(1), NodeId(3), fixed(7));
  EXPECT_EQ(net_->link_model(NodeId(3), NodeId(1)).latency_min_us, 7);
}

TEST_F(NetworkFixture, TraceRecordsSendsDeliveriesAndDrops) {
  make(2);
  trace_.keep_events(true);
  net_->block(NodeId(2), NodeId(1));
  net_->send(NodeId(1), NodeId(2), "a");
  net_->send(NodeId(2), NodeId(1), "b");
  loop_.run_until(kUsPerSec);
  std::map<std::string, int> kinds;
  for (const TraceEvent& e : trace_.events()) ++kinds[e.kind];
  EXPECT_EQ(kinds["net_send"], 2);
  EXPECT_EQ(kinds["net_deliver"], 1);
  EXPECT_EQ(kinds["net_drop"], 1);
  EXPECT_EQ(kinds["block"], 1);
}

}  // namespace
}  // namespace replsim::sim

namespace replsim::sim {
namespace {

TEST(PayloadDigest, EqualBytesEqualDigestAnyChangeDiffers) {
  std::string base(100, 'x');
  EXPECT_EQ(payload_digest(base), payload_digest(std::string(100, 'x')));
  for (size_t i = 0; i < base.size(); ++i) {
    std::string changed = base;
    changed[i] = 'y';
    EXPECT_NE(payload_digest(changed), payload_digest(base)) << i;
  }
  EXPECT_NE(payload_digest("a"), payload_digest(std::string("a\0", 2)));  // length counts
  EXPECT_NE(payload_digest(""), payload_digest(std::string(1, '\0')));
}

}  // namespace
}  // namespace replsim::sim
