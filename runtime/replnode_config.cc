#include "runtime/replnode_config.h"

#include <openssl/rand.h>

#include <boost/asio/steady_timer.hpp>

#include "runtime/http_api.h"
#include "runtime/vault_api.h"

namespace replsim::runtime {
namespace {

Result<uint32_t> parse_u32(const std::string& flag, const std::string& text) {
  if (text.empty() || text.size() > 10) return Status::invalid_argument(flag + ": want a number");
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Status::invalid_argument(flag + ": want a number");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return Status::invalid_argument(flag + ": above 2^32");
  return static_cast<uint32_t>(v);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "id=host:port,..." into `peers`.
Status parse_peers(const std::string& text, std::map<NodeId, PeerAddress>* peers) {
  for (const std::string& item : split(text, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return Status::invalid_argument("--peers: want id=host:port");
    auto id = parse_u32("--peers", item.substr(0, eq));
    if (!id.is_ok()) return id.status();
    auto addr = parse_peer_address(item.substr(eq + 1));
    if (!addr.is_ok()) return addr.status();
    (*peers)[NodeId(id.value())] = addr.value();
  }
  return Status::ok();
}

Status apply_flag(const std::string& name, const std::string& value, ReplnodeConfig* c) {
  auto number = [&](uint32_t* out) -> Status {
    auto v = parse_u32("--" + name, value);
    if (!v.is_ok()) return v.status();
    *out = v.value();
    return Status::ok();
  };
  auto address = [&](PeerAddress* out) -> Status {
    auto a = parse_peer_address(value);
    if (!a.is_ok()) return a.status();
    *out = a.value();
    return Status::ok();
  };
  if (name == "node-id") return number(&c->node_id.value);
  if (name == "cluster-id") return number(&c->cluster_id.value);
  if (name == "client-id") return number(&c->client_id.value);
  if (name == "listen") return address(&c->listen);
  if (name == "http") return address(&c->http);
  if (name == "peers") return parse_peers(value, &c->peers);
  if (name == "dev-root-token-id") {
    if (value.empty()) return Status::invalid_argument("--dev-root-token-id: empty");
    c->dev_root_token = value;
    return Status::ok();
  }
  if (name == "http-sessions-max") {
    uint32_t v = 0;
    REPLSIM_RETURN_IF_ERROR(number(&v));
    if (v == 0) return Status::invalid_argument("--http-sessions-max: want > 0");
    c->http_sessions_max = v;
    return Status::ok();
  }
  if (name == "http-request-timeout-ms") {
    uint32_t v = 0;
    REPLSIM_RETURN_IF_ERROR(number(&v));
    if (v == 0) return Status::invalid_argument("--http-request-timeout-ms: want > 0");
    c->http_request_timeout_us = static_cast<TimeUs>(v) * kUsPerMs;
    return Status::ok();
  }
  if (name == "data-dir") {
    c->data_dir = value;
    return Status::ok();
  }
  if (name == "tls-ca") return (c->tls_ca_file = value, Status::ok());
  if (name == "tls-cert") return (c->tls_cert_file = value, Status::ok());
  if (name == "tls-key") return (c->tls_key_file = value, Status::ok());
  if (name == "node-clusters") {
    for (const std::string& item : split(value, ',')) {
      const size_t colon = item.find(':');
      if (colon == std::string::npos)
        return Status::invalid_argument("--node-clusters: want id:cluster");
      auto id = parse_u32("--node-clusters", item.substr(0, colon));
      if (!id.is_ok()) return id.status();
      auto cluster = parse_u32("--node-clusters", item.substr(colon + 1));
      if (!cluster.is_ok()) return cluster.status();
      c->node_clusters[NodeId(id.value())] = ClusterId(cluster.value());
    }
    return Status::ok();
  }
  if (name == "cluster-nodes") {
    for (const std::string& id : split(value, ',')) {
      auto v = parse_u32("--cluster-nodes", id);
      if (!v.is_ok()) return v.status();
      c->cluster_nodes.push_back(NodeId(v.value()));
    }
    return Status::ok();
  }
  return Status::invalid_argument("unknown flag --" + name);
}

}  // namespace

std::string replnode_usage() {
  return "usage: replnode --node-id=N --cluster-id=C --data-dir=DIR\n"
         "         --listen=HOST:PORT --http=HOST:PORT\n"
         "         [--peers=ID=HOST:PORT,...] [--cluster-nodes=ID,ID,...] [--client-id=N]\n"
         "         [--tls-ca=PEM --tls-cert=PEM --tls-key=PEM --node-clusters=ID:C,...]\n"
         "         [--dev-root-token-id=TOKEN]   initialize at start with this root token\n"
         "         [--http-sessions-max=N] [--http-request-timeout-ms=MS]\n"
         "Every node of every cluster needs a distinct node id and every other node in --peers.\n";
}

Result<ReplnodeConfig> parse_replnode_args(const std::vector<std::string>& args) {
  ReplnodeConfig c;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return Status::invalid_argument("argument '" + arg + "': want --flag=value");
    }
    REPLSIM_RETURN_IF_ERROR(apply_flag(arg.substr(2, eq - 2), arg.substr(eq + 1), &c));
  }
  if (c.node_id.value == 0) return Status::invalid_argument("--node-id is required (> 0)");
  if (c.cluster_id.value == 0) return Status::invalid_argument("--cluster-id is required (> 0)");
  if (c.data_dir.empty()) return Status::invalid_argument("--data-dir is required");
  if (c.cluster_nodes.empty()) c.cluster_nodes.push_back(c.node_id);
  bool self_listed = false;
  for (NodeId n : c.cluster_nodes) self_listed |= n == c.node_id;
  if (!self_listed) return Status::invalid_argument("--cluster-nodes must include --node-id");
  const int tls_files = !c.tls_ca_file.empty() + !c.tls_cert_file.empty() + !c.tls_key_file.empty();
  if (tls_files != 0 && tls_files != 3) {
    return Status::invalid_argument("--tls-ca, --tls-cert and --tls-key go together");
  }
  for (NodeId n : c.cluster_nodes) {
    auto it = c.node_clusters.find(n);
    if (it != c.node_clusters.end() && it->second != c.cluster_id) {
      return Status::invalid_argument("--node-clusters puts node " + std::to_string(n.value) +
                                      " of this cluster in cluster " +
                                      std::to_string(it->second.value));
    }
    c.node_clusters[n] = c.cluster_id;
  }
  if (tls_files == 3) {
    for (const auto& [id, addr] : c.peers) {
      if (c.node_clusters.count(id) == 0) {
        return Status::invalid_argument("with TLS every peer needs its cluster: node " +
                                        std::to_string(id.value) + " is not in --node-clusters");
      }
    }
  }
  return c;
}

Result<std::unique_ptr<Replnode>> Replnode::create(boost::asio::io_context& io,
                                                   ReplnodeConfig config) {
  std::unique_ptr<Replnode> r(new Replnode(std::move(config)));
  ReplnodeConfig& c = r->config_;
  if (c.cluster_nodes.empty()) c.cluster_nodes.push_back(c.node_id);
  if (c.client_id.value == 0) {
    uint32_t random = 0;
    REPLSIM_ASSERT(RAND_bytes(reinterpret_cast<unsigned char*>(&random), sizeof(random)) == 1);
    c.client_id = NodeId(random | 0x80000000u);
  }
  AsioEnvOptions node_options;
  node_options.transport.self = c.node_id;
  node_options.transport.peers = c.peers;
  node_options.transport.listen_host = c.listen.host;
  node_options.transport.listen_port = c.listen.port;
  node_options.transport.log_errors = c.log_transport_errors;
  std::optional<TlsOptions> tls;
  if (!c.tls_cert_file.empty()) tls = TlsOptions{c.tls_ca_file, c.tls_cert_file, c.tls_key_file};
  node_options.transport.tls = tls;
  node_options.transport.node_clusters = c.node_clusters;
  node_options.data_dir = c.data_dir;
  auto node_env = AsioEnv::create(io, std::move(node_options));
  if (!node_env.is_ok()) return node_env.status();
  r->node_env_ = std::move(node_env.value());

  AsioEnvOptions client_options;  // dial-only: the node answers on the client's connection
  client_options.transport.self = c.client_id;
  client_options.transport.listen = false;
  client_options.transport.log_errors = c.log_transport_errors;
  client_options.transport.tls = tls;  // the API client speaks with its cluster's certificate
  client_options.transport.node_clusters = c.node_clusters;
  auto client_env = AsioEnv::create(io, std::move(client_options));
  if (!client_env.is_ok()) return client_env.status();
  r->client_env_ = std::move(client_env.value());
  r->client_env_->set_peer(c.node_id, {c.listen.host, r->node_env_->listen_port()});

  cluster::NodeConfig nc;
  nc.cluster_id = c.cluster_id;
  nc.cluster_nodes = c.cluster_nodes;
  r->node_ = std::make_unique<cluster::Node>(*r->node_env_, std::move(nc));
  r->client_ = std::make_unique<cluster::ApiClient>(*r->client_env_);
  VaultOptions vault_options;
  vault_options.dev_root_token = c.dev_root_token;
  vault_options.api_addr = "http://" + c.http.host + ":" + std::to_string(c.http.port);
  r->vault_ = std::make_unique<VaultApi>(*r->node_, *r->client_, c.node_id, vault_options);
  HttpApiOptions http_options;
  http_options.listen = c.http;
  http_options.sessions_max = c.http_sessions_max;
  http_options.request_timeout_us = c.http_request_timeout_us;
  r->http_ = std::make_unique<HttpApi>(io, *r->vault_, std::move(http_options));
  r->dev_init_timer_ = std::make_unique<boost::asio::steady_timer>(io);
  r->sweep_timer_ = std::make_unique<boost::asio::steady_timer>(io);
  return r;
}

Replnode::Replnode(ReplnodeConfig config) : config_(std::move(config)) {}

Replnode::~Replnode() {
  alive_.reset();
  dev_init_timer_.reset();
  sweep_timer_.reset();
  http_.reset();
  vault_.reset();
  client_.reset();
  node_.reset();
}

Status Replnode::start() {
  node_->start();
  REPLSIM_RETURN_IF_ERROR(http_->start());
  dev_init_step();
  sweep_step();
  return Status::ok();
}

// Expired tokens are deleted every kTokenSweepInterval, kTokenSweepRecordsMax at a time.
void Replnode::sweep_step() {
  constexpr auto kTokenSweepInterval = std::chrono::seconds(60);
  constexpr size_t kTokenSweepRecordsMax = 1000;
  std::weak_ptr<int> alive = alive_;
  sweep_timer_->expires_after(kTokenSweepInterval);
  sweep_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    vault_->sweep_tokens(kTokenSweepRecordsMax, [this, alive](size_t) {
      if (!alive.expired()) sweep_step();
    });
  });
}

// With --dev-root-token-id: once the node is active, write the init record and the root
// token (every start: the same flags give the same root token after a restart).
void Replnode::dev_init_step() {
  std::weak_ptr<int> alive = alive_;
  vault_->ensure_dev_init([this, alive](bool done) {
    if (alive.expired() || done) return;
    dev_init_timer_->expires_after(std::chrono::milliseconds(100));
    dev_init_timer_->async_wait([this, alive](const boost::system::error_code& ec) {
      if (!ec && !alive.expired()) dev_init_step();
    });
  });
}

uint16_t Replnode::http_port() const { return http_->port(); }

}  // namespace replsim::runtime
