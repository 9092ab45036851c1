// engine/cluster/client.h — a client endpoint: sends api.proto requests, matches responses.
//
// A client is a node of its own (its own Env). It sends Envelope{client_request} or
// Envelope{operator_request} to any cluster node and receives the response carrying the same
// request_id. No retries here: a client that wants one resends with the same request_id
// (the primary applies a write at most once per request_id). Each request has a deadline on
// the client's clock; on expiry `done` receives a response with error TIMEOUT. Late or
// duplicate responses are ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "engine/env.h"
#include "proto/api.pb.h"

namespace replsim::cluster {

class ApiClient {
 public:
  using ClientDone = std::function<void(const proto::ClientResponse&)>;
  using OperatorDone = std::function<void(const proto::OperatorResponse&)>;

  // Installs the receiver on `env` (which must outlive the client).
  explicit ApiClient(Env& env);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // A fresh request id: (self node id << 32) | counter.
  uint64_t next_request_id();

  // Sends `request` (request_id filled when 0) to `to`. Returns the request id.
  uint64_t send(NodeId to, proto::ClientRequest request, ClientDone done,
                TimeUs timeout_us = 10 * kUsPerSec);
  uint64_t send_operator(NodeId to, proto::OperatorRequest request, OperatorDone done,
                         TimeUs timeout_us = 10 * kUsPerSec);

  size_t pending() const { return client_pending_.size() + operator_pending_.size(); }

 private:
  template <typename Response>
  struct Pending {
    std::function<void(const Response&)> done;
    TimerId timer = kNoTimer;
  };
  template <typename Response>
  using PendingMap = std::map<uint64_t, Pending<Response>>;

  // Registers `done` for request `id` and arms its timeout (answered with TIMEOUT).
  template <typename Response>
  void track(PendingMap<Response>& pending, uint64_t id, std::function<void(const Response&)> done,
             TimeUs timeout_us);
  // Delivers a response to its waiter, once; unknown or already answered ids are ignored.
  template <typename Response>
  void complete(PendingMap<Response>& pending, const Response& response);
  void on_message(NodeId from, const std::string& payload);

  Env& env_;
  uint64_t counter_ = 0;
  PendingMap<proto::ClientResponse> client_pending_;
  PendingMap<proto::OperatorResponse> operator_pending_;
};

}  // namespace replsim::cluster
