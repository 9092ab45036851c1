#include "engine/cluster/forwarder.h"

#include "engine/assert.h"
#include "engine/replication/envelope.h"

namespace replsim::cluster {

using replication::send_envelope;

Forwarder::Forwarder(Env& env, TimeUs timeout_us, TimeUs retry_us)
    : env_(env), timeout_us_(timeout_us), retry_us_(retry_us) {
  REPLSIM_ASSERT(timeout_us_ > 0);
  REPLSIM_ASSERT(retry_us_ > 0);
}

Forwarder::~Forwarder() {
  for (auto& [id, f] : forwards_) {
    env_.cancel(f.retry);
    env_.cancel(f.deadline);
  }
}

void Forwarder::start(uint64_t first_id) {
  REPLSIM_ASSERT(first_id != 0);
  REPLSIM_ASSERT(forwards_.empty());
  next_id_ = first_id;
}

uint64_t Forwarder::add(Pending p) {
  const uint64_t id = next_id_++;
  REPLSIM_ASSERT_MSG(forwards_.count(id) == 0, "forward id reused");
  p.fwd.set_forward_id(id);
  if (p.fwd.has_request()) pending_requests_[p.fwd.request().request_id()]++;
  if (p.relay) relays_[p.relay_key] = id;
  forwards_.emplace(id, std::move(p));
  forwards_[id].deadline = env_.schedule(timeout_us_, [this, id] { expire(id); });
  requests_forwarded_++;
  check_bookkeeping();
  send(id);
  return id;
}

void Forwarder::forward(Target target, proto::ForwardRequest fwd, Answer answer,
                        TimedOut timed_out) {
  REPLSIM_ASSERT(answer != nullptr);
  REPLSIM_ASSERT(timed_out != nullptr);
  Pending p;
  p.fwd = std::move(fwd);
  p.target = std::move(target);
  p.answer = std::move(answer);
  p.timed_out = std::move(timed_out);
  add(std::move(p));
}

bool Forwarder::relay(NodeId from, proto::ForwardRequest fwd, Target target) {
  REPLSIM_ASSERT(target != nullptr);
  if (fwd.hops() >= kForwardHopsMax) return false;  // the sender times out with a clear error
  const SenderKey key{from.value, fwd.forward_id()};
  if (relays_.count(key) != 0) return false;  // a resend: the relay in flight answers it
  // Bounced back (no active node yet): this node already forwards the request itself; the
  // sender keeps resending and reaches the active node on its own.
  if (fwd.has_request() && pending_requests_.count(fwd.request().request_id()) != 0) {
    return false;
  }
  fwd.set_hops(fwd.hops() + 1);
  Pending p;
  p.relay = true;
  p.relay_key = key;
  p.fwd = std::move(fwd);
  p.target = std::move(target);
  add(std::move(p));
  return true;
}

void Forwarder::send(uint64_t id) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return;
  Pending& p = it->second;
  NodeId to = p.target(p.attempt++);
  if (to.value != 0 && to != env_.self()) {
    if (!p.relay && before_send_) before_send_(&p.fwd);
    REPLSIM_ASSERT(p.fwd.forward_id() == id);
    proto::NodeEnvelope out;
    *out.mutable_forward_request() = p.fwd;
    send_envelope(env_, to, out);
  }
  p.retry = env_.schedule(retry_us_, [this, id] { send(id); });
}

void Forwarder::expire(uint64_t id) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return;
  Pending p = take(it);
  REPLSIM_ASSERT(p.relay || p.timed_out != nullptr);
  if (!p.relay) p.timed_out();
}

void Forwarder::on_response(const proto::ForwardResponse& resp) {
  auto it = forwards_.find(resp.forward_id());
  if (it == forwards_.end()) return;  // late or duplicate
  Pending p = take(it);
  REPLSIM_ASSERT(p.relay || p.answer != nullptr);
  if (!p.relay) return p.answer(resp);
  proto::NodeEnvelope out;
  *out.mutable_forward_response() = resp;
  out.mutable_forward_response()->set_forward_id(p.relay_key.second);
  send_envelope(env_, NodeId(p.relay_key.first), out);
}

Forwarder::Pending Forwarder::take(std::map<uint64_t, Pending>::iterator it) {
  Pending p = std::move(it->second);
  forwards_.erase(it);
  env_.cancel(p.retry);
  env_.cancel(p.deadline);
  if (p.relay) {
    REPLSIM_ASSERT(relays_.count(p.relay_key) == 1);
    relays_.erase(p.relay_key);
  }
  if (p.fwd.has_request()) {
    auto r = pending_requests_.find(p.fwd.request().request_id());
    REPLSIM_ASSERT_MSG(r != pending_requests_.end(), "a forward missing from its request");
    REPLSIM_ASSERT(r->second > 0);
    if (--r->second == 0) pending_requests_.erase(r);
  }
  check_bookkeeping();
  return p;
}

bool Forwarder::begin_handling(NodeId from, uint64_t forward_id) {
  return handling_.insert({from.value, forward_id}).second;
}

void Forwarder::end_handling(NodeId from, uint64_t forward_id) {
  handling_.erase({from.value, forward_id});
}

void Forwarder::check_bookkeeping() const {
  REPLSIM_ASSERT(relays_.size() <= forwards_.size());
  REPLSIM_ASSERT(pending_requests_.size() <= forwards_.size());
}

}  // namespace replsim::cluster
