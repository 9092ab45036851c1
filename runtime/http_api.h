// runtime/http_api.h — the HTTP/1.1 front end (Boost.Beast) of a replnode's Vault API.
//
// Turns each request under /v1/ into a VaultRequest (runtime/vault_api.h) and the answer back
// into HTTP: X-Vault-Token or "Authorization: Bearer" carry the token; X-Vault-Index,
// X-Vault-Inconsistent and X-Vault-Forward are read; X-Vault-Index is answered whenever the
// request read or wrote replicated data. The LIST method and GET with ?list=true|1|t|True are
// the same request. Routes and their Vault counterparts: docs/runtime.md.
//
// Bounds (every one named and tested): body_bytes_max (413, Vault's default 32 MiB),
// header_bytes_max (431), request_timeout_us for reading one request, idle or not (a client
// that sends part of a request and stalls is cut off: slowloris), sessions_max connections;
// at the cap the longest-idle keep-alive connection is closed to make room, and a new one is
// refused only when every connection is busy with a request. No TLS.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "runtime/transport.h"

namespace replsim::runtime {

class VaultApi;

struct HttpApiOptions {
  PeerAddress listen{"127.0.0.1", 0};
  size_t body_bytes_max = 32 * 1024 * 1024;
  size_t header_bytes_max = 16 * 1024;
  size_t sessions_max = 256;
  TimeUs request_timeout_us = 30 * kUsPerSec;
};

class HttpSession;

class HttpApi {
 public:
  // `vault` outlives the HttpApi.
  HttpApi(boost::asio::io_context& io, VaultApi& vault, HttpApiOptions options);
  ~HttpApi();
  Status start();
  uint16_t port() const { return port_; }
  size_t sessions() const { return sessions_; }
  // Connections closed to make room for a new one, and new ones refused (every one busy).
  uint64_t idle_sessions_shed() const { return shed_; }
  uint64_t sessions_refused() const { return refused_; }

 private:
  friend class HttpSession;
  void accept_next();
  // Closes the longest-idle session; false when none is idle.
  bool shed_idle();

  boost::asio::io_context& io_;
  VaultApi& vault_;
  HttpApiOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  size_t sessions_ = 0;
  uint64_t shed_ = 0;
  uint64_t refused_ = 0;
  uint64_t idle_seq_ = 0;
  std::map<uint64_t, std::weak_ptr<HttpSession>> idle_;  // by when they became idle
  std::shared_ptr<int> alive_;
};

}  // namespace replsim::runtime
