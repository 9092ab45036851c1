#include "runtime/asio_env.h"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "runtime/test_util.h"

namespace replsim::runtime {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using testing::run_until;

struct Inbox {
  std::vector<std::pair<NodeId, std::string>> got;
  void attach(Env& env) {
    env.set_receiver([this](NodeId from, std::string p) { got.emplace_back(from, std::move(p)); });
  }
};

class AsioEnvTest : public ::testing::Test {
 protected:
  std::unique_ptr<AsioEnv> make(uint32_t id, bool listen = true, uint16_t port = 0) {
    AsioEnvOptions o;
    o.transport.self = NodeId(id);
    o.transport.listen = listen;
    o.transport.listen_port = port;
    o.transport.reconnect_backoff_us = 20 * kUsPerMs;
    o.transport.log_errors = false;
    auto env = AsioEnv::create(io_, std::move(o));
    EXPECT_TRUE(env.is_ok()) << env.status().to_string();
    return std::move(env.value());
  }
  static PeerAddress local(const AsioEnv& env) { return {"127.0.0.1", env.listen_port()}; }

  boost::asio::io_context io_;
};

TEST_F(AsioEnvTest, TwoEnvsExchangeMessagesBothWaysInOrder) {
  auto a = make(1);
  auto b = make(2);
  a->set_peer(NodeId(2), local(*b));
  b->set_peer(NodeId(1), local(*a));
  Inbox in_a;
  in_a.attach(*a);
  b->set_receiver([&](NodeId from, std::string p) { b->send(from, "re:" + p); });
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) a->send(NodeId(2), std::to_string(i));
  ASSERT_TRUE(run_until(
      io_, [&] { return in_a.got.size() == kMessages; }, 5000ms));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(in_a.got[i].first, NodeId(2));
    EXPECT_EQ(in_a.got[i].second, "re:" + std::to_string(i));  // one connection keeps order
  }
  EXPECT_EQ(b->transport_counters().frames_received, uint64_t{kMessages});
  EXPECT_EQ(a->transport_counters().frames_corrupt, 0u);
}

TEST_F(AsioEnvTest, LargeMessageArrivesWhole) {
  auto a = make(1);
  auto b = make(2);
  a->set_peer(NodeId(2), local(*b));
  Inbox in_b;
  in_b.attach(*b);
  std::string big;
  a->random().fill_bytes(3 * 1024 * 1024, &big);
  a->send(NodeId(2), big);
  ASSERT_TRUE(run_until(
      io_, [&] { return in_b.got.size() == 1; }, 5000ms));
  EXPECT_EQ(in_b.got[0].second, big);
}

TEST_F(AsioEnvTest, ClientOutsidePeerTableIsAnsweredOnItsOwnConnection) {
  auto server = make(2);
  auto client = make(900, /*listen=*/false);
  client->set_peer(NodeId(2), local(*server));
  server->set_receiver([&](NodeId from, std::string p) { server->send(from, p + "!"); });
  Inbox in_c;
  in_c.attach(*client);
  client->send(NodeId(2), "ping");
  ASSERT_TRUE(run_until(
      io_, [&] { return in_c.got.size() == 1; }, 5000ms));
  EXPECT_EQ(in_c.got[0].second, "ping!");
}

TEST_F(AsioEnvTest, SendToUnknownNodeIsDropped) {
  auto a = make(1);
  a->send(NodeId(42), "lost");
  EXPECT_EQ(a->transport_counters().frames_dropped, 1u);
}

TEST_F(AsioEnvTest, SendToSelfIsDeliveredLater) {
  auto a = make(1);
  Inbox in;
  in.attach(*a);
  a->send(NodeId(1), "me");
  EXPECT_TRUE(in.got.empty()) << "never delivered inside send()";
  ASSERT_TRUE(run_until(
      io_, [&] { return in.got.size() == 1; }, 1000ms));
  EXPECT_EQ(in.got[0].first, NodeId(1));
}

TEST_F(AsioEnvTest, PeerRestartIsReachedAgainAfterDrops) {
  auto a = make(1);
  auto b = make(2);
  const uint16_t port = b->listen_port();
  a->set_peer(NodeId(2), {"127.0.0.1", port});
  Inbox in_b;
  in_b.attach(*b);
  a->send(NodeId(2), "one");
  ASSERT_TRUE(run_until(
      io_, [&] { return in_b.got.size() == 1; }, 5000ms));
  b.reset();  // the peer goes down
  // Sends while it is down are lost (best effort), never an error or a crash.
  run_until(
      io_,
      [&] {
        a->send(NodeId(2), "into the void");
        return a->transport_counters().dial_failures > 0;
      },
      5000ms);
  EXPECT_GT(a->transport_counters().dial_failures, 0u);
  b = make(2, true, port);
  Inbox in_b2;
  in_b2.attach(*b);
  ASSERT_TRUE(run_until(
      io_,
      [&] {
        a->send(NodeId(2), "two");
        return !in_b2.got.empty();
      },
      5000ms));
  EXPECT_EQ(in_b2.got.back().second, "two");
}

TEST_F(AsioEnvTest, CorruptFrameIsRefusedAndItsConnectionClosed) {
  auto b = make(2);
  Inbox in_b;
  in_b.attach(*b);
  tcp::socket raw(io_);
  raw.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), b->listen_port()));
  std::string good = encode_frame(NodeId(5), "fine");
  std::string bad = encode_frame(NodeId(5), "evil");
  bad.back() ^= 0x01;
  boost::asio::write(raw, boost::asio::buffer(good + bad + good));
  ASSERT_TRUE(run_until(
      io_, [&] { return b->transport_counters().frames_corrupt == 1; }, 5000ms));
  // Only the frame before the corrupt one was delivered; the connection is gone.
  ASSERT_EQ(in_b.got.size(), 1u);
  EXPECT_EQ(in_b.got[0].second, "fine");
  char byte;
  boost::system::error_code ec;
  raw.read_some(boost::asio::buffer(&byte, 1), ec);
  // Closed: EOF, or a reset because the frame after the corrupt one was left unread.
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
      << ec.message();
  // A fresh connection with a good frame still works.
  tcp::socket raw2(io_);
  raw2.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), b->listen_port()));
  boost::asio::write(raw2, boost::asio::buffer(good));
  ASSERT_TRUE(run_until(
      io_, [&] { return in_b.got.size() == 2; }, 5000ms));
}

TEST_F(AsioEnvTest, GarbageStreamIsRefused) {
  auto b = make(2);
  tcp::socket raw(io_);
  raw.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), b->listen_port()));
  boost::asio::write(raw, boost::asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  ASSERT_TRUE(run_until(
      io_, [&] { return b->transport_counters().frames_corrupt == 1; }, 5000ms));
}

TEST_F(AsioEnvTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  auto a = make(1, false);
  std::vector<int> fired;
  const TimeUs start = a->now_us();  // before schedule(): delays count from the call
  a->schedule(30 * kUsPerMs, [&] { fired.push_back(3); });
  a->schedule(10 * kUsPerMs, [&] { fired.push_back(1); });
  TimerId c = a->schedule(20 * kUsPerMs, [&] { fired.push_back(2); });
  a->schedule(0, [&] { fired.push_back(0); });
  EXPECT_TRUE(fired.empty()) << "a zero-delay timer never runs inside schedule()";
  a->cancel(c);
  a->cancel(c);         // cancelling twice is a no-op
  a->cancel(kNoTimer);  // so is an unknown id
  ASSERT_TRUE(run_until(
      io_, [&] { return fired.size() == 3; }, 2000ms));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 3}));
  EXPECT_GE(a->now_us() - start, 30 * kUsPerMs);
  EXPECT_EQ(a->pending_timers(), 0u);
  run_until(
      io_, [] { return false; }, 50ms);
  EXPECT_EQ(fired.size(), 3u);
}

TEST_F(AsioEnvTest, DestroyedEnvRunsNoMoreCallbacks) {
  auto a = make(1, false);
  bool fired = false;
  a->schedule(1 * kUsPerMs, [&] { fired = true; });
  a->post([&] { fired = true; });
  a.reset();
  run_until(
      io_, [] { return false; }, 30ms);
  EXPECT_FALSE(fired);
}

TEST_F(AsioEnvTest, ClockIsWallTimeAndNeverGoesBack) {
  auto a = make(1, false);
  const TimeUs wall = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  TimeUs prev = a->now_us();
  EXPECT_LT(std::llabs(prev - wall), 5 * kUsPerSec);
  for (int i = 0; i < 1000; ++i) {
    TimeUs t = a->now_us();
    EXPECT_GE(t, prev);
    prev = t;
  }
}

TEST_F(AsioEnvTest, RandomDrawsDifferAndBuggifyIsOff) {
  auto a = make(1, false);
  auto b = make(2, false);
  EXPECT_NE(a->random().next_u64(), b->random().next_u64());
  std::string bytes;
  a->random().fill_bytes(32, &bytes);
  EXPECT_EQ(bytes.size(), 32u);
  EXPECT_NE(bytes, std::string(32, '\0'));
  EXPECT_FALSE(a->buggify("any_site"));
}

}  // namespace
}  // namespace replsim::runtime
