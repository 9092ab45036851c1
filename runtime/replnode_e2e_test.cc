// End to end over real TCP, files and clocks: a primary and a secondary replnode (one node
// each, in this process, on one io_context thread), driven through the HTTP API.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/http_api.h"
#include "runtime/replnode_config.h"
#include "runtime/test_util.h"
#include "runtime/vault_api.h"
#include "runtime/vault_json.h"
#include "runtime/vault_util.h"

namespace replsim::runtime {
namespace {

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace http = beast::http;
using testing::run_until;

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
  std::string index;  // X-Vault-Index
  Json json() const {
    auto j = parse_json_object(body);
    return j.is_ok() ? j.value() : Json();
  }
};

constexpr const char* kRoot = "e2e-root";

// j[k1][k2]... as a string, "" when any step is missing or not a string.
std::string str_at(const Json& j, std::initializer_list<const char*> keys) {
  const Json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object() || !at->contains(k)) return "";
    at = &(*at)[k];
  }
  return at->is_string() ? at->get<std::string>() : "";
}

class ReplnodeE2eTest : public ::testing::Test {
 protected:
  ReplnodeE2eTest() : dir_("replnode-e2e") {}

  std::unique_ptr<Replnode> make(uint32_t id, uint16_t port = 0) {
    ReplnodeConfig c;
    c.node_id = NodeId(id);
    c.cluster_id = ClusterId(id);
    c.data_dir = dir_.path() + "/cluster" + std::to_string(id);
    c.listen.port = port;
    c.log_transport_errors = false;
    c.dev_root_token = kRoot;
    auto r = Replnode::create(io_, c);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r.value());
  }

  HttpResult call(Replnode& n, http::verb verb, const std::string& target,
                  const std::string& body = "", const std::string& token = "",
                  const std::pair<std::string, std::string>& header = {}) {
    struct State {
      explicit State(boost::asio::io_context& io) : stream(io) {}
      beast::tcp_stream stream;
      http::request<http::string_body> req;
      http::response<http::string_body> res;
      beast::flat_buffer buffer;
      bool done = false;
    };
    auto st = std::make_shared<State>(io_);
    st->req = http::request<http::string_body>(verb, target, 11);
    st->req.set(http::field::host, "localhost");
    if (!token.empty()) st->req.set("X-Vault-Token", token);
    if (!header.first.empty()) st->req.set(header.first, header.second);
    st->req.body() = body;
    st->req.prepare_payload();
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), n.http_port());
    st->stream.async_connect(ep, [st](beast::error_code ec) {
      if (ec) return void(st->done = true);
      http::async_write(st->stream, st->req, [st](beast::error_code ec, size_t) {
        if (ec) return void(st->done = true);
        http::async_read(st->stream, st->buffer, st->res,
                         [st](beast::error_code, size_t) { st->done = true; });
      });
    });
    EXPECT_TRUE(run_until(
        io_, [&] { return st->done; }, 40000ms))
        << target;
    auto idx = st->res.find("X-Vault-Index");
    return {static_cast<int>(st->res.result_int()), st->res.body(),
            idx == st->res.end() ? "" : std::string(idx->value())};
  }

  std::string login(Replnode& n) {
    HttpResult r =
        call(n, http::verb::post, "/v1/auth/userpass/login/alice", R"({"password": "pw"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return str_at(r.json(), {"auth", "client_token"});
  }

  // Polls a read until it returns `want` (200) or `max` passes.
  bool read_until(Replnode& n, const std::string& token, const std::string& path,
                  const std::string& want, std::chrono::milliseconds max) {
    const auto end = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < end) {
      HttpResult r = call(n, http::verb::get, "/v1/secret/data/" + path, "", token);
      if (r.status == 200 && str_at(r.json(), {"data", "data", "v"}) == want) return true;
      run_until(
          io_, [] { return false; }, 50ms);
    }
    return false;
  }

  boost::asio::io_context io_;
  testing::TempDir dir_;
};

TEST_F(ReplnodeE2eTest, WriteOnPrimaryIsReadOnSecondaryAcrossASecondaryRestart) {
  auto a = make(1);
  auto b = make(2);
  const uint16_t b_port = b->listen_port();
  a->set_peer(NodeId(2), {"127.0.0.1", b_port});
  b->set_peer(NodeId(1), {"127.0.0.1", a->listen_port()});
  ASSERT_TRUE(a->start().is_ok());
  ASSERT_TRUE(b->start().is_ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return a->node().is_active() && b->node().is_active(); }, 10000ms));
  ASSERT_TRUE(run_until(
      io_, [&] { return call(*a, http::verb::get, "/v1/sys/health").status == 200; }, 10000ms));
  ASSERT_TRUE(run_until(
      io_, [&] { return call(*b, http::verb::get, "/v1/sys/health").status == 200; }, 10000ms));

  ASSERT_EQ(call(*a, http::verb::post, "/v1/sys/replication/primary/enable", "", kRoot).status,
            200);
  ASSERT_EQ(call(*a, http::verb::put, "/v1/sys/policy/dev",
                 R"({"policy": "{\"path\": {\"secret/*\": {\"capabilities\": [\"create\", )"
                 R"(\"read\", \"update\", \"list\"]}}}"})",
                 kRoot)
                .status,
            204);
  ASSERT_EQ(call(*a, http::verb::post, "/v1/auth/userpass/users/alice",
                 R"({"password": "pw", "token_policies": ["dev"]})", kRoot)
                .status,
            204);
  HttpResult tok = call(*a, http::verb::post, "/v1/sys/replication/primary/secondary-token",
                        R"({"id": "sec-2"})", kRoot);
  ASSERT_EQ(tok.status, 200) << tok.body;
  const std::string activation = str_at(tok.json(), {"wrap_info", "token"});
  ASSERT_FALSE(activation.empty()) << tok.body;
  HttpResult en = call(*b, http::verb::post, "/v1/sys/replication/secondary/enable",
                       R"({"token": ")" + activation + "\"}", kRoot);
  ASSERT_EQ(en.status, 200) << en.body;
  ASSERT_TRUE(run_until(
      io_, [&] { return b->node().status().state() == "stream-wals"; }, 15000ms))
      << b->node().status().state();

  const std::string t1 = login(*a);
  ASSERT_EQ(call(*a, http::verb::put, "/v1/secret/data/app/k", R"({"data":{"v":"v1"}})", t1).status,
            200);
  const std::string t2 = login(*b);  // users replicate; tokens do not
  ASSERT_TRUE(read_until(*b, t2, "app/k", "v1", 10000ms));
  EXPECT_EQ(call(*b, http::verb::get, "/v1/secret/data/app/k", "", t1).status, 403)
      << "a token minted on the primary is foreign on the secondary";

  // A write sent to the secondary is forwarded to the primary and read back there.
  HttpResult fw =
      call(*b, http::verb::put, "/v1/secret/data/app/fw", R"({"data":{"v":"via-secondary"}})", t2);
  ASSERT_EQ(fw.status, 200) << fw.body;
  EXPECT_FALSE(fw.index.empty());
  EXPECT_TRUE(read_until(*a, t1, "app/fw", "via-secondary", 5000ms));

  // The secondary process stops; a write happens meanwhile; a new process over the same
  // directory and port recovers from its files and catches up.
  b.reset();
  ASSERT_EQ(
      call(*a, http::verb::put, "/v1/secret/data/app/late", R"({"data":{"v":"while-down"}})", t1)
          .status,
      200);
  b = make(2, b_port);
  b->set_peer(NodeId(1), {"127.0.0.1", a->listen_port()});
  ASSERT_TRUE(b->start().is_ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return b->node().is_active(); }, 10000ms));
  const std::string t3 = login(*b);
  EXPECT_TRUE(read_until(*b, t3, "app/late", "while-down", 10000ms));
  EXPECT_TRUE(read_until(*b, t3, "app/k", "v1", 1000ms));
  HttpResult status = call(*b, http::verb::get, "/v1/sys/replication/status");
  EXPECT_EQ(str_at(status.json(), {"data", "performance", "mode"}), "secondary") << status.body;
}

TEST_F(ReplnodeE2eTest, UnknownRouteAndBadIndexHeaderAreClientErrors) {
  auto a = make(1);
  ASSERT_TRUE(a->start().is_ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return call(*a, http::verb::get, "/v1/sys/health").status == 200; }, 10000ms));
  EXPECT_EQ(call(*a, http::verb::get, "/v1/nothing", "", kRoot).status, 404);
  EXPECT_EQ(call(*a, http::verb::get, "/not-v1").status, 404);
  EXPECT_EQ(call(*a, http::verb::post, "/v1/sys/replication/bogus", "", kRoot).status, 404);
  EXPECT_EQ(call(*a, http::verb::patch, "/v1/secret/data/x", "{}", kRoot).status, 405);
  HttpResult bad =
      call(*a, http::verb::get, "/v1/secret/data/x", "", kRoot, {"X-Vault-Index", "junk"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.json()["errors"].is_array()) << bad.body;
}

// Two nodes of one cluster over one storage directory: one takes the HA lock, the other is a
// standby, and sys/health says so with Vault's codes.
TEST_F(ReplnodeE2eTest, HealthAnswers429OnAStandbyAnd200OnTheActiveNode) {
  auto node = [&](uint32_t id) {
    ReplnodeConfig c;
    c.node_id = NodeId(id);
    c.cluster_id = ClusterId(1);
    c.cluster_nodes = {NodeId(1), NodeId(3)};
    c.data_dir = dir_.path() + "/shared";
    c.log_transport_errors = false;
    c.dev_root_token = kRoot;
    auto r = Replnode::create(io_, c);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r.value());
  };
  auto a = node(1);
  auto b = node(3);
  a->set_peer(NodeId(3), {"127.0.0.1", b->listen_port()});
  b->set_peer(NodeId(1), {"127.0.0.1", a->listen_port()});
  ASSERT_TRUE(a->start().is_ok());
  ASSERT_TRUE(b->start().is_ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return a->node().is_active() || b->node().is_active(); }, 10000ms));
  Replnode& active = a->node().is_active() ? *a : *b;
  Replnode& standby = a->node().is_active() ? *b : *a;
  ASSERT_TRUE(run_until(
      io_, [&] { return call(active, http::verb::get, "/v1/sys/health").status == 200; }, 10000ms));
  HttpResult h = call(standby, http::verb::get, "/v1/sys/health");
  EXPECT_EQ(h.status, 429) << h.body;
  EXPECT_TRUE(h.json().value("standby", false)) << h.body;
  EXPECT_EQ(call(standby, http::verb::get, "/v1/sys/health?standbyok=true").status, 200);
  EXPECT_EQ(call(standby, http::verb::get, "/v1/sys/health?standbycode=299").status, 299);
  EXPECT_FALSE(call(standby, http::verb::get, "/v1/sys/leader").json().value("is_self", true));
}

TEST_F(ReplnodeE2eTest, ExpiredTokensAreSweptAndLiveOnesKept) {
  auto a = make(1);
  ASSERT_TRUE(a->start().is_ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return call(*a, http::verb::get, "/v1/sys/health").status == 200; }, 10000ms));
  HttpResult shortlived = call(*a, http::verb::post, "/v1/auth/token/create",
                               R"({"ttl": "1s", "policies": ["default"]})", kRoot);
  ASSERT_EQ(shortlived.status, 200) << shortlived.body;
  const std::string dead = str_at(shortlived.json(), {"auth", "client_token"});
  HttpResult longlived = call(*a, http::verb::post, "/v1/auth/token/create",
                              R"({"ttl": "1h", "policies": ["default"]})", kRoot);
  const std::string live = str_at(longlived.json(), {"auth", "client_token"});
  ASSERT_FALSE(dead.empty());
  ASSERT_FALSE(live.empty());
  auto stored = [&](const std::string& token) {
    auto local = a->node().local_snapshot();
    return local && local->count(token_storage_path(token)) == 1;
  };
  ASSERT_TRUE(stored(dead));
  run_until(
      io_, [] { return false; }, 1200ms);
  size_t deleted = 0;
  bool done = false;
  a->vault().sweep_tokens(100, [&](size_t n) {
    deleted = n;
    done = true;
  });
  ASSERT_TRUE(run_until(
      io_, [&] { return done; }, 5000ms));
  EXPECT_EQ(deleted, 1u);
  EXPECT_FALSE(stored(dead)) << "the expired token's record is gone from storage";
  EXPECT_TRUE(stored(live));
  EXPECT_TRUE(stored(kRoot));
  EXPECT_EQ(call(*a, http::verb::get, "/v1/auth/token/lookup-self", "", live).status, 200);
  EXPECT_EQ(call(*a, http::verb::get, "/v1/auth/token/lookup-self", "", dead).status, 403);
}

}  // namespace
}  // namespace replsim::runtime
