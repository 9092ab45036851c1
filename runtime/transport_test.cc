// Transport bounds against hostile peers: frame memory follows the bytes that arrived, the
// partial frames of all connections are capped, and idle connections cannot lock others out.
// Loopback only; every wait is bounded.
#include "runtime/transport.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <vector>

#include "runtime/test_util.h"

namespace replsim::runtime {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using testing::run_until;

// A frame header announcing `length` payload bytes, followed by `sent` of them.
std::string lying_frame(uint32_t length, size_t sent) {
  std::string frame = encode_frame(NodeId(9), std::string(sent, 'x'));
  for (int i = 0; i < 4; ++i) frame[4 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return frame;
}

class TransportBounds : public ::testing::Test {
 protected:
  void start(TransportOptions o) {
    o.self = NodeId(1);
    o.log_errors = false;
    transport_ = std::make_unique<Transport>(io_, o);
    ASSERT_TRUE(transport_->start().is_ok());
    transport_->set_receiver([this](NodeId, std::string p) { received_.push_back(p); });
  }
  std::unique_ptr<tcp::socket> connect_raw() {
    auto s = std::make_unique<tcp::socket>(io_);
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), transport_->listen_port()));
    return s;
  }
  asio::io_context io_;
  std::unique_ptr<Transport> transport_;
  std::vector<std::string> received_;
};

TEST_F(TransportBounds, AnnouncedLengthTakesNoMemoryUntilBytesArrive) {
  start({});
  std::vector<std::unique_ptr<tcp::socket>> peers;
  for (int i = 0; i < 8; ++i) {
    peers.push_back(connect_raw());
    asio::write(*peers.back(), asio::buffer(lying_frame(64 * 1024 * 1024, 5)));
  }
  ASSERT_TRUE(run_until(
      io_, [&] { return transport_->inbound_connections() == 8; }, milliseconds(2000)));
  run_until(
      io_, [] { return false; }, milliseconds(100));
  // At most one read chunk per connection, not 8 x 64 MiB.
  EXPECT_LE(transport_->inbound_partial_bytes(), 8 * transport_->options().read_chunk_bytes);
  peers.clear();  // the peers go away: their memory comes back
  ASSERT_TRUE(run_until(
      io_, [&] { return transport_->inbound_connections() == 0; }, milliseconds(2000)));
  EXPECT_EQ(transport_->inbound_partial_bytes(), 0u);
}

TEST_F(TransportBounds, PartialFramesPastTheCapCloseTheirConnection) {
  TransportOptions o;
  o.read_chunk_bytes = 16 * 1024;
  o.inbound_partial_bytes_max = 64 * 1024;
  start(o);
  auto peer = connect_raw();
  // 1 MiB announced and sent: it cannot be held within 64 KiB of partial frames.
  asio::write(*peer, asio::buffer(lying_frame(1024 * 1024, 1024 * 1024 - 64)));
  ASSERT_TRUE(run_until(
      io_, [&] { return transport_->counters().partial_frames_refused == 1; }, milliseconds(3000)));
  EXPECT_EQ(transport_->inbound_partial_bytes(), 0u);
  EXPECT_TRUE(received_.empty());
  // A frame within the bound still gets through on a new connection.
  auto good = connect_raw();
  asio::write(*good, asio::buffer(encode_frame(NodeId(9), std::string(1000, 'y'))));
  ASSERT_TRUE(run_until(
      io_, [&] { return received_.size() == 1; }, milliseconds(2000)));
  EXPECT_EQ(received_[0].size(), 1000u);
}

TEST_F(TransportBounds, IdleConnectionsAtTheCapAreShedNotEveryoneRefused) {
  TransportOptions o;
  o.inbound_connections_max = 2;
  start(o);
  auto idle1 = connect_raw();
  ASSERT_TRUE(run_until(
      io_, [&] { return transport_->inbound_connections() == 1; }, milliseconds(2000)));
  auto idle2 = connect_raw();
  ASSERT_TRUE(run_until(
      io_, [&] { return transport_->inbound_connections() == 2; }, milliseconds(2000)));
  auto sender = connect_raw();
  asio::write(*sender, asio::buffer(encode_frame(NodeId(9), "hello")));
  ASSERT_TRUE(run_until(
      io_, [&] { return received_.size() == 1; }, milliseconds(2000)));
  EXPECT_EQ(received_[0], "hello");
  EXPECT_EQ(transport_->counters().inbound_shed, 1u);
  EXPECT_EQ(transport_->inbound_connections(), 2u);
}

}  // namespace
}  // namespace replsim::runtime
