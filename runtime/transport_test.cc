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

// ---- mutual TLS: the sender is what the certificate allows ----

std::string pki(const std::string& name) {
  return std::string(REPLSIM_RUNTIME_TESTDATA) + "/pki/" + name;
}

TlsOptions cluster_tls(int cluster, bool foreign = false) {
  const std::string dir = foreign ? "foreign/" : "";
  return {pki("ca.pem"), pki(dir + "cluster-" + std::to_string(cluster) + ".pem"),
          pki(dir + "cluster-" + std::to_string(cluster) + ".key")};
}

class TransportTls : public ::testing::Test {
 protected:
  // Node 100 is in cluster 1, node 101 in cluster 1, node 200 in cluster 2.
  std::unique_ptr<Transport> make(NodeId self, TlsOptions tls, bool listen) {
    TransportOptions o;
    o.self = self;
    o.listen = listen;
    o.log_errors = false;
    o.tls = tls;
    o.node_clusters = {
        {NodeId(100), ClusterId(1)}, {NodeId(101), ClusterId(1)}, {NodeId(200), ClusterId(2)}};
    if (server_) o.peers[NodeId(100)] = {"127.0.0.1", server_->listen_port()};
    auto t = std::make_unique<Transport>(io_, o);
    EXPECT_TRUE(t->start().is_ok());
    return t;
  }
  void SetUp() override {
    server_ = make(NodeId(100), cluster_tls(1), true);
    server_->set_receiver([this](NodeId from, std::string p) { got_.emplace_back(from, p); });
  }
  bool wait(const std::function<bool()>& pred) { return run_until(io_, pred, milliseconds(3000)); }
  asio::io_context io_;
  std::unique_ptr<Transport> server_;
  std::vector<std::pair<NodeId, std::string>> got_;
};

TEST_F(TransportTls, CertifiedNodesExchangeFramesOverTls13) {
  auto peer = make(NodeId(200), cluster_tls(2), false);
  std::vector<std::string> answers;
  peer->set_receiver([&](NodeId, std::string p) { answers.push_back(p); });
  peer->send(NodeId(100), "from cluster 2");
  ASSERT_TRUE(wait([&] { return got_.size() == 1; }));
  EXPECT_EQ(got_[0].first, NodeId(200));
  EXPECT_EQ(got_[0].second, "from cluster 2");
  server_->send(NodeId(200), "answer");  // back over the connection node 200 opened
  ASSERT_TRUE(wait([&] { return answers.size() == 1; }));
  EXPECT_EQ(server_->counters().tls_handshakes_failed, 0u);
}

TEST_F(TransportTls, PlaintextPeerNeverGetsPastTheHandshake) {
  tcp::socket raw(io_);
  raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->listen_port()));
  asio::write(raw, asio::buffer(encode_frame(NodeId(200), "plaintext hello")));
  ASSERT_TRUE(wait([&] { return server_->counters().tls_handshakes_failed == 1; }));
  EXPECT_TRUE(got_.empty());
}

TEST_F(TransportTls, CertificateFromAnotherCaIsRefused) {
  auto rogue = make(NodeId(200), cluster_tls(1, /*foreign=*/true), false);
  rogue->send(NodeId(100), "let me in");
  ASSERT_TRUE(wait([&] { return server_->counters().tls_handshakes_failed == 1; }));
  run_until(
      io_, [] { return false; }, milliseconds(50));
  EXPECT_TRUE(got_.empty());
}

TEST_F(TransportTls, FrameClaimingAnotherClustersNodeIsRefused) {
  // Certified for cluster 2, claiming to be node 101 of cluster 1.
  auto impostor = make(NodeId(101), cluster_tls(2), false);
  impostor->send(NodeId(100), "I am node 101");
  ASSERT_TRUE(wait([&] { return server_->counters().impersonations_refused == 1; }));
  EXPECT_TRUE(got_.empty());
  // Certified for cluster 1, node 101 is who it says.
  auto honest = make(NodeId(101), cluster_tls(1), false);
  honest->send(NodeId(100), "I am node 101");
  ASSERT_TRUE(wait([&] { return got_.size() == 1; }));
  EXPECT_EQ(got_[0].first, NodeId(101));
}

TEST_F(TransportTls, ClientOfACertifiedClusterIsAnswered) {
  auto client = make(NodeId(5000), cluster_tls(2), false);  // no node: a client
  std::vector<std::string> answers;
  client->set_receiver([&](NodeId, std::string p) { answers.push_back(p); });
  client->send(NodeId(100), "request");
  ASSERT_TRUE(wait([&] { return got_.size() == 1; }));
  server_->send(NodeId(5000), "response");
  ASSERT_TRUE(wait([&] { return answers.size() == 1; }));
}

TEST_F(TransportTls, MissingCertificateFilesAreAClearError) {
  TransportOptions o;
  o.self = NodeId(7);
  o.tls = TlsOptions{pki("ca.pem"), pki("nope.pem"), pki("nope.key")};
  Transport t(io_, o);
  Status s = t.start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nope.pem"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace replsim::runtime
