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

template <typename Response>
void ApiClient::track(PendingMap<Response>& pending, uint64_t id,
                      std::function<void(const Response&)> done, TimeUs timeout_us) {
  auto& p = pending[id];
  env_.cancel(p.timer);
  p.done = std::move(done);
  p.timer = env_.schedule(timeout_us, [this, &pending, id] {
    Response r;
    r.set_request_id(id);
    r.set_error(proto::TIMEOUT);
    r.set_error_message("client timeout");
    complete(pending, r);
  });
}

template <typename Response>
void ApiClient::complete(PendingMap<Response>& pending, const Response& response) {
  auto it = pending.find(response.request_id());
  if (it == pending.end()) return;
  env_.cancel(it->second.timer);
  auto fn = std::move(it->second.done);
  pending.erase(it);
  fn(response);
}

uint64_t ApiClient::send(NodeId to, proto::ClientRequest request, ClientDone done,
                         TimeUs timeout_us) {
  if (request.request_id() == 0) request.set_request_id(next_request_id());
  const uint64_t id = request.request_id();
  track(client_pending_, id, std::move(done), timeout_us);
  proto::Envelope e;
  *e.mutable_client_request() = std::move(request);
  env_.send(to, e.SerializeAsString());
  return id;
}

uint64_t ApiClient::send_operator(NodeId to, proto::OperatorRequest request, OperatorDone done,
                                  TimeUs timeout_us) {
  if (request.request_id() == 0) request.set_request_id(next_request_id());
  const uint64_t id = request.request_id();
  track(operator_pending_, id, std::move(done), timeout_us);
  proto::Envelope e;
  *e.mutable_operator_request() = std::move(request);
  env_.send(to, e.SerializeAsString());
  return id;
}

void ApiClient::on_message(NodeId from, const std::string& payload) {
  proto::Envelope e;
  if (!e.ParseFromString(payload)) return;
  if (e.has_client_response()) {
    complete(client_pending_, e.client_response());
  } else if (e.has_operator_response()) {
    complete(operator_pending_, e.operator_response());
  }
}

}  // namespace replsim::cluster
