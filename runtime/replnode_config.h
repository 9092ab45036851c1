// runtime/replnode_config.h — the replnode server's configuration and its process bundle.
//
// A replnode process runs one engine node (engine/cluster/node.h) over an AsioEnv, plus an
// in-process API client on a second AsioEnv (its own NodeId, dial-only) that the HTTP front end
// (runtime/http_api.h) uses: HTTP requests become proto::Envelope client/operator requests sent
// to the local node through TCP, exactly as any remote client's would be.
//
// Node ids: every node of every cluster needs a distinct id and an entry in every other node's
// peer table (activation tokens name the primary's nodes by id). The API client picks a random
// id in [2^31, 2^32) at each start so request ids (client id << 32 | counter) do not repeat
// across restarts or replnodes (the primary deduplicates writes by request id).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/client.h"
#include "engine/cluster/node.h"
#include "runtime/asio_env.h"
#include "runtime/transport.h"

namespace replsim::runtime {

struct ReplnodeConfig {
  NodeId node_id;
  ClusterId cluster_id;
  std::vector<NodeId> cluster_nodes;    // default: just node_id
  PeerAddress listen{"127.0.0.1", 0};   // node-to-node TCP
  PeerAddress http{"127.0.0.1", 0};     // HTTP API
  std::map<NodeId, PeerAddress> peers;  // every other node (self may be listed too)
  std::string data_dir;                 // the cluster storage directory
  NodeId client_id;                     // 0: random in [2^31, 2^32)
  bool log_transport_errors = true;
  // Mutual TLS on the cluster port (runtime/transport.h, security): all three files or none.
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  // The cluster of every other node (--node-clusters=ID:C,...): with TLS a frame is accepted
  // only from a node of the cluster its connection's certificate names. This cluster's nodes
  // (cluster_nodes) are added to it.
  std::map<NodeId, ClusterId> node_clusters;
  std::string dev_root_token;  // --dev-root-token-id: initialized at start (vault server -dev)
  size_t http_sessions_max = 256;
  TimeUs http_request_timeout_us = 30 * kUsPerSec;
};

// Parses --node-id=N --cluster-id=C --listen=host:port --http=host:port
// --peers=id=host:port,... --cluster-nodes=id,id --data-dir=DIR [--client-id=N]
// [--dev-root-token-id=T] [--http-sessions-max=N] [--http-request-timeout-ms=MS].
Result<ReplnodeConfig> parse_replnode_args(const std::vector<std::string>& args);
std::string replnode_usage();

class HttpApi;
class VaultApi;

// The objects of one replnode process, all driven by one io_context thread.
class Replnode {
 public:
  // Creates the envs (binding the node's listen port) and the node; nothing runs until
  // start(). Errors: port in use, data directory not creatable.
  static Result<std::unique_ptr<Replnode>> create(boost::asio::io_context& io,
                                                  ReplnodeConfig config);
  ~Replnode();

  // Starts the node and the HTTP API.
  Status start();

  // Before start(): the peer table can still be completed (tests with ephemeral ports).
  void set_peer(NodeId id, PeerAddress address) { node_env_->set_peer(id, std::move(address)); }
  uint16_t listen_port() const { return node_env_->listen_port(); }
  const TransportCounters& node_transport_counters() const {
    return node_env_->transport_counters();
  }
  uint16_t http_port() const;
  cluster::Node& node() { return *node_; }
  cluster::ApiClient& client() { return *client_; }
  HttpApi& http() { return *http_; }
  VaultApi& vault() { return *vault_; }
  const ReplnodeConfig& config() const { return config_; }

 private:
  explicit Replnode(ReplnodeConfig config);
  void dev_init_step();
  void sweep_step();

  ReplnodeConfig config_;
  std::unique_ptr<AsioEnv> node_env_;
  std::unique_ptr<AsioEnv> client_env_;
  std::unique_ptr<cluster::Node> node_;
  std::unique_ptr<cluster::ApiClient> client_;
  std::unique_ptr<VaultApi> vault_;
  std::unique_ptr<HttpApi> http_;
  std::unique_ptr<boost::asio::steady_timer> dev_init_timer_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace replsim::runtime
