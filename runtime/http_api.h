// runtime/http_api.h — a small Vault-shaped HTTP API in front of one replsim node (Boost.Beast).
//
// Every HTTP request becomes one api.proto request sent by an ApiClient to the local node
// (which forwards as the engine does); the answer is mapped back to HTTP. Routes:
//   GET    /v1/kv/<path>                 read: the raw value (404 when absent); metadata in
//                                        X-Replsim-* headers and X-Vault-Index "epoch:index"
//   GET    /v1/kv/<prefix>?list=true     list: ClientResponse JSON (keys)
//   PUT|POST /v1/kv/<path>               write the raw request body: ClientResponse JSON
//   DELETE /v1/kv/<path>                 delete: ClientResponse JSON
//   POST   /v1/auth/userpass/login/<u>   {"password": "..."} → ClientResponse JSON (token)
//   POST   /v1/auth/userpass/users/<u>   {"password": "..."} create a user (operator action)
//   GET    /v1/auth/token/lookup-self    token lookup
//   GET    /v1/sys/replication/status    OperatorResponse JSON (status)
//   POST   /v1/sys/replication/primary/enable
//   POST   /v1/sys/replication/primary/secondary-token   {"id": "...", "ttl_us": "..."}
//   POST   /v1/sys/replication/primary/demote   (also .../secondary/demote)
//   POST   /v1/sys/replication/secondary/enable          {"token": "..."}
//   POST   /v1/sys/replication/secondary/update-primary  {"token": "..."}
//   POST   /v1/sys/replication/secondary/promote
// Client requests carry the token in X-Vault-Token. A read may carry X-Vault-Index
// "epoch:index" (required index state) and X-Vault-Inconsistent: forward-active-node.
// api.proto error codes map to HTTP statuses (PERMISSION_DENIED 403, UNAVAILABLE 503, ...).
// Request JSON bodies are flat objects of string fields (a minimal reader, not a JSON parser).
// Bounds: body_bytes_max per request, sessions_max concurrent connections. No TLS.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/cluster/client.h"
#include "runtime/transport.h"

namespace replsim::runtime {

struct HttpApiOptions {
  PeerAddress listen{"127.0.0.1", 0};
  size_t body_bytes_max = 1024 * 1024;
  size_t sessions_max = 256;
  TimeUs client_timeout_us = 10 * kUsPerSec;
  TimeUs operator_timeout_us = 30 * kUsPerSec;
};

// Extracts string field `key` from a flat JSON object ("" when absent or not a string).
std::string json_string_field(const std::string& body, const std::string& key);

class HttpSession;

class HttpApi {
 public:
  // `client` sends to `node`; both outlive the HttpApi.
  HttpApi(boost::asio::io_context& io, cluster::ApiClient& client, NodeId node,
          HttpApiOptions options);
  ~HttpApi();
  Status start();
  uint16_t port() const { return port_; }

 private:
  friend class HttpSession;
  void accept_next();

  boost::asio::io_context& io_;
  cluster::ApiClient& client_;
  NodeId node_;
  HttpApiOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  size_t sessions_ = 0;
  std::shared_ptr<int> alive_;
};

}  // namespace replsim::runtime
