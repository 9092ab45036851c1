#include "engine/cluster/client.h"

namespace replsim::cluster {

ApiClient::ApiClient(Env& env) : env_(env) {
  env_.set_receiver([this](NodeId from, std::string payload) { on_message(from, payload); });
}

ApiClient::~ApiClient() {
  for (auto& [id, p] : client_pending_) env_.cancel(p.timer);
  for (auto& [id, p] : operator_pending_) env_.cancel(p.timer);
}

uint64_t ApiClient::next_request_id() { return (uint64_t{env_.self().value} << 32) | ++counter_; }

uint64_t ApiClient::send(NodeId to, proto::ClientRequest request, ClientDone done,
                         TimeUs timeout_us) {
  if (request.request_id() == 0) request.set_request_id(next_request_id());
  uint64_t id = request.request_id();
  auto& p = client_pending_[id];
  env_.cancel(p.timer);
  p.done = std::move(done);
  p.timer = env_.schedule(timeout_us, [this, id] {
    auto it = client_pending_.find(id);
    if (it == client_pending_.end()) return;
    auto fn = std::move(it->second.done);
    client_pending_.erase(it);
    proto::ClientResponse r;
    r.set_request_id(id);
    r.set_error(proto::TIMEOUT);
    r.set_error_message("client timeout");
    fn(r);
  });
  proto::Envelope e;
  *e.mutable_client_request() = std::move(request);
  env_.send(to, e.SerializeAsString());
  return id;
}

uint64_t ApiClient::send_operator(NodeId to, proto::OperatorRequest request, OperatorDone done,
                                  TimeUs timeout_us) {
  if (request.request_id() == 0) request.set_request_id(next_request_id());
  uint64_t id = request.request_id();
  auto& p = operator_pending_[id];
  env_.cancel(p.timer);
  p.done = std::move(done);
  p.timer = env_.schedule(timeout_us, [this, id] {
    auto it = operator_pending_.find(id);
    if (it == operator_pending_.end()) return;
    auto fn = std::move(it->second.done);
    operator_pending_.erase(it);
    proto::OperatorResponse r;
    r.set_request_id(id);
    r.set_error(proto::TIMEOUT);
    r.set_error_message("client timeout");
    fn(r);
  });
  proto::Envelope e;
  *e.mutable_operator_request() = std::move(request);
  env_.send(to, e.SerializeAsString());
  return id;
}

void ApiClient::on_message(NodeId from, const std::string& payload) {
  proto::Envelope e;
  if (!e.ParseFromString(payload)) return;
  if (e.has_client_response()) {
    auto it = client_pending_.find(e.client_response().request_id());
    if (it == client_pending_.end()) return;
    env_.cancel(it->second.timer);
    auto fn = std::move(it->second.done);
    client_pending_.erase(it);
    fn(e.client_response());
  } else if (e.has_operator_response()) {
    auto it = operator_pending_.find(e.operator_response().request_id());
    if (it == operator_pending_.end()) return;
    env_.cancel(it->second.timer);
    auto fn = std::move(it->second.done);
    operator_pending_.erase(it);
    fn(e.operator_response());
  }
}

}  // namespace replsim::cluster
