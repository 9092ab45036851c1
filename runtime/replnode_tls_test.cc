// Two replnode clusters replicating over mutual TLS on the cluster port, and a node holding a
// certificate from another CA that never receives anything. Real TCP, files and clocks on
// loopback; every wait is bounded; the nodes stop with the test.
#include <gtest/gtest.h>

#include <optional>

#include "runtime/replnode_config.h"
#include "runtime/test_util.h"

namespace replsim::runtime {
namespace {

using namespace std::chrono_literals;
using testing::run_until;

std::string pki(const std::string& name) {
  return std::string(REPLSIM_RUNTIME_TESTDATA) + "/pki/" + name;
}

class ReplnodeTlsTest : public ::testing::Test {
 protected:
  ReplnodeTlsTest() : dir_("replnode-tls") {}

  // Node `id` of cluster `cluster` with certificate `cert` (a file stem under pki/) and the CA
  // it trusts.
  std::unique_ptr<Replnode> make(uint32_t id, uint32_t cluster, const std::string& cert,
                                 const std::string& ca = "ca.pem") {
    ReplnodeConfig c;
    c.node_id = NodeId(id);
    c.cluster_id = ClusterId(cluster);
    c.data_dir = dir_.path() + "/node" + std::to_string(id);
    c.log_transport_errors = false;
    c.tls_ca_file = pki(ca);
    c.tls_cert_file = pki(cert + ".pem");
    c.tls_key_file = pki(cert + ".key");
    c.node_clusters = {
        {NodeId(1), ClusterId(1)}, {NodeId(2), ClusterId(2)}, {NodeId(3), ClusterId(3)}};
    auto r = Replnode::create(io_, c);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r.value());
  }

  proto::OperatorResponse op(Replnode& n, proto::OperatorRequest req) {
    std::optional<proto::OperatorResponse> out;
    n.client().send_operator(n.config().node_id, std::move(req),
                             [&](const proto::OperatorResponse& r) { out = r; });
    EXPECT_TRUE(run_until(
        io_, [&] { return out.has_value(); }, 15000ms));
    return out.value_or(proto::OperatorResponse());
  }

  proto::ClientResponse call(Replnode& n, proto::ClientRequest req) {
    std::optional<proto::ClientResponse> out;
    n.client().send(n.config().node_id, std::move(req),
                    [&](const proto::ClientResponse& r) { out = r; });
    EXPECT_TRUE(run_until(
        io_, [&] { return out.has_value(); }, 15000ms));
    return out.value_or(proto::ClientResponse());
  }

  std::string login(Replnode& n) {
    proto::ClientRequest req;
    req.mutable_login()->set_username("alice");
    req.mutable_login()->set_password("pw");
    return call(n, req).token();
  }

  std::string activation_token(Replnode& primary, const std::string& id) {
    proto::OperatorRequest tok;
    tok.mutable_secondary_token()->set_id(id);
    proto::OperatorResponse r = op(primary, tok);
    EXPECT_EQ(r.error(), proto::OK) << r.error_message();
    return r.token();
  }

  boost::asio::io_context io_;
  testing::TempDir dir_;
};

TEST_F(ReplnodeTlsTest, ClustersReplicateOverMutualTlsAndAForeignCertificateGetsNothing) {
  auto a = make(1, 1, "cluster-1");
  auto b = make(2, 2, "cluster-2");
  auto rogue = make(3, 3, "foreign/cluster-3", "foreign/ca.pem");  // its own CA
  a->set_peer(NodeId(2), {"127.0.0.1", b->listen_port()});
  a->set_peer(NodeId(3), {"127.0.0.1", rogue->listen_port()});
  b->set_peer(NodeId(1), {"127.0.0.1", a->listen_port()});
  rogue->set_peer(NodeId(1), {"127.0.0.1", a->listen_port()});
  ASSERT_TRUE(a->start().is_ok());
  ASSERT_TRUE(b->start().is_ok());
  ASSERT_TRUE(rogue->start().is_ok());
  ASSERT_TRUE(run_until(
      io_,
      [&] { return a->node().is_active() && b->node().is_active() && rogue->node().is_active(); },
      10000ms));

  proto::OperatorRequest enable;
  enable.mutable_enable_primary();
  ASSERT_EQ(op(*a, enable).error(), proto::OK);
  proto::OperatorRequest user;
  user.mutable_create_user()->set_username("alice");
  user.mutable_create_user()->set_password("pw");
  ASSERT_EQ(op(*a, user).error(), proto::OK);

  proto::OperatorRequest join;
  join.mutable_enable_secondary()->set_token(activation_token(*a, "sec-2"));
  ASSERT_EQ(op(*b, join).error(), proto::OK);
  ASSERT_TRUE(run_until(
      io_, [&] { return b->node().status().state() == "stream-wals"; }, 15000ms))
      << b->node().status().state();

  // The rogue holds a genuine activation token but not a certificate of this deployment.
  proto::OperatorRequest rogue_join;
  rogue_join.mutable_enable_secondary()->set_token(activation_token(*a, "sec-3"));
  proto::OperatorResponse rj = op(*rogue, rogue_join);
  EXPECT_NE(rj.error(), proto::OK) << "the rogue reached the primary";

  proto::ClientRequest write;
  write.set_token(login(*a));
  write.mutable_write()->set_path("app/k");
  write.mutable_write()->set_value("over tls");
  ASSERT_EQ(call(*a, write).error(), proto::OK);
  const std::string t2 = login(*b);
  bool seen = run_until(
      io_,
      [&] {
        proto::ClientRequest read;
        read.set_token(t2);
        read.mutable_read()->set_path("app/k");
        proto::ClientResponse r = call(*b, read);
        return r.found() && r.value() == "over tls";
      },
      10000ms);
  EXPECT_TRUE(seen);
  EXPECT_GT(a->node_transport_counters().tls_handshakes_failed, 0u)
      << rj.error_message() << " rogue dials " << rogue->node_transport_counters().dials
      << " rogue fails " << rogue->node_transport_counters().tls_handshakes_failed;
  EXPECT_NE(rogue->node().status().state(), "stream-wals");
}

TEST(ReplnodeTlsArgs, TlsFlagsGoTogetherAndEveryPeerNeedsItsCluster) {
  auto partial = parse_replnode_args(
      {"--node-id=1", "--cluster-id=1", "--data-dir=/tmp/x", "--tls-ca=ca.pem"});
  EXPECT_FALSE(partial.is_ok());
  auto unmapped =
      parse_replnode_args({"--node-id=1", "--cluster-id=1", "--data-dir=/tmp/x", "--tls-ca=a",
                           "--tls-cert=b", "--tls-key=c", "--peers=2=127.0.0.1:9000"});
  EXPECT_FALSE(unmapped.is_ok());
  auto ok = parse_replnode_args({"--node-id=1", "--cluster-id=1", "--data-dir=/tmp/x", "--tls-ca=a",
                                 "--tls-cert=b", "--tls-key=c", "--peers=2=127.0.0.1:9000",
                                 "--node-clusters=2:2"});
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->node_clusters.at(NodeId(2)), ClusterId(2));
  EXPECT_EQ(ok->node_clusters.at(NodeId(1)), ClusterId(1));
}

}  // namespace
}  // namespace replsim::runtime
