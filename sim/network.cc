#include "sim/network.h"

#include <algorithm>
#include <cmath>

#include "engine/assert.h"

namespace replsim::sim {

namespace {
// Folds the sender into the payload digest so two nodes sending equal bytes differ.
uint64_t message_digest(NodeId from, const std::string& payload) {
  return payload_digest(payload) ^ (static_cast<uint64_t>(from.value) * 0x9e3779b97f4a7c15ull);
}
}  // namespace

LinkModel LinkModel::lan() { return LinkModel{}; }

LinkModel LinkModel::wan() {
  LinkModel m;
  m.latency_min_us = 28 * kUsPerMs;
  m.latency_tail_mean_us = 2 * kUsPerMs;
  m.jitter_stddev_us = 1 * kUsPerMs;
  m.reorder_delay_max_us = 10 * kUsPerMs;
  return m;
}

std::string link_name(NodeId from, NodeId to) {
  return "link " + std::to_string(from.value) + "->" + std::to_string(to.value);
}

Network::Network(EventLoop& loop, Prng prng, FaultRecorder* faults, Trace* trace)
    : loop_(loop), prng_(prng), faults_(faults), trace_(trace) {
  classifier_ = [](NodeId, NodeId) { return LinkModel::lan(); };
}

void Network::set_endpoint(NodeId node, Endpoint endpoint) {
  REPLSIM_ASSERT(endpoint != nullptr);
  endpoints_[node] = EndpointState{std::move(endpoint), true};
}

void Network::set_up(NodeId node, bool up) {
  auto it = endpoints_.find(node);
  REPLSIM_ASSERT(it != endpoints_.end());
  it->second.up = up;
}

namespace {
inline size_t slot_of(uint64_t k, size_t size) {
  return static_cast<size_t>((k * 0x9e3779b97f4a7c15ull) >> 32) & (size - 1);
}
}  // namespace

Network::LinkState* Network::find_link(uint64_t k) const {
  if (links_.empty()) return nullptr;
  for (size_t i = slot_of(k, links_.size());; i = (i + 1) & (links_.size() - 1)) {
    const LinkSlot& slot = links_[i];
    if (slot.state == nullptr) return nullptr;
    if (slot.key == k) return slot.state.get();
  }
}

Network::LinkState& Network::find_or_add_link(uint64_t k) {
  if (LinkState* found = find_link(k)) return *found;
  if ((links_used_ + 1) * 2 > links_.size()) {  // keep the load factor <= 1/2
    std::vector<LinkSlot> old = std::move(links_);
    links_ = std::vector<LinkSlot>(old.empty() ? 64 : old.size() * 2);
    for (LinkSlot& slot : old) {
      if (slot.state == nullptr) continue;
      size_t i = slot_of(slot.key, links_.size());
      while (links_[i].state != nullptr) i = (i + 1) & (links_.size() - 1);
      links_[i] = std::move(slot);
    }
  }
  size_t i = slot_of(k, links_.size());
  while (links_[i].state != nullptr) i = (i + 1) & (links_.size() - 1);
  links_[i].key = k;
  links_[i].state = std::make_unique<LinkState>();
  ++links_used_;
  return *links_[i].state;
}

Network::LinkState& Network::link(NodeId from, NodeId to) {
  LinkState& state = find_or_add_link(key(from, to));
  if (!state.has_model) {
    state.model = classifier_(from, to);
    state.has_model = true;
  }
  return state;
}

void Network::set_classifier(Classifier classifier) {
  REPLSIM_ASSERT(classifier != nullptr);
  classifier_ = std::move(classifier);
  for (LinkSlot& slot : links_) {  // order does not matter: each entry is reset alone
    if (slot.state != nullptr && !slot.state->explicit_model) slot.state->has_model = false;
  }
}

void Network::set_link_model(NodeId a, NodeId b, const LinkModel& model) {
  set_link_model_one_way(a, b, model);
  set_link_model_one_way(b, a, model);
}

void Network::set_link_model_one_way(NodeId from, NodeId to, const LinkModel& model) {
  REPLSIM_ASSERT(model.latency_min_us >= 0);
  REPLSIM_ASSERT(model.queue_messages_max > 0);
  LinkState& state = find_or_add_link(key(from, to));
  state.model = model;
  state.has_model = true;
  state.explicit_model = true;
}

const LinkModel& Network::link_model(NodeId from, NodeId to) { return link(from, to).model; }

size_t Network::in_flight(NodeId from, NodeId to) const {
  const LinkState* state = find_link(key(from, to));
  return state == nullptr ? 0 : state->in_flight;
}

TimeUs Network::draw_latency_us(const LinkModel& m) {
  double latency = static_cast<double>(m.latency_min_us);
  if (m.latency_tail_mean_us > 0) {
    latency += prng_.exponential(static_cast<double>(m.latency_tail_mean_us));
  }
  if (m.jitter_stddev_us > 0) {
    latency += prng_.normal(0.0, static_cast<double>(m.jitter_stddev_us));
  }
  latency = std::max(latency, static_cast<double>(m.latency_min_us));
  return static_cast<TimeUs>(latency + 0.5);  // latency >= 0
}

void Network::send(NodeId from, NodeId to, std::string payload) {
  ++counters_.sent;
  for (const Observer& observer : observers_) observer(from, to, payload);
  const uint64_t digest = message_digest(from, payload);
  if (trace_ != nullptr) trace_->record(loop_.now(), from.value, "net_send", digest);
  if (blocked(from, to)) return drop(from, to, digest, &counters_.dropped_partition);
  LinkState& state = link(from, to);
  if (prng_.bernoulli(state.model.drop_probability)) {
    return drop(from, to, digest, &counters_.dropped_random);
  }
  const bool duplicate = prng_.bernoulli(state.model.duplicate_probability);
  if (duplicate) {
    put_in_flight(from, to, state, payload, digest, /*copy=*/true);
    put_in_flight(from, to, state, std::move(payload), digest, /*copy=*/false);
  } else {
    put_in_flight(from, to, state, std::move(payload), digest, /*copy=*/false);
  }
}

void Network::put_in_flight(NodeId from, NodeId to, LinkState& state, const std::string& payload,
                            uint64_t digest, bool copy) {
  if (state.in_flight >= state.model.queue_messages_max) {
    return drop(from, to, digest, &counters_.dropped_queue_full);
  }
  if (copy) {
    ++counters_.duplicated;
    if (trace_ != nullptr) trace_->record(loop_.now(), from.value, "net_dup", digest);
  }
  const TimeUs now = loop_.now();
  TimeUs arrival = now + draw_latency_us(state.model);
  if (prng_.bernoulli(state.model.reorder_probability)) {
    ++counters_.reordered;
    arrival += prng_.uniform_range(0, state.model.reorder_delay_max_us);
  } else {
    arrival = std::max(arrival, state.fifo_time_us);  // never overtake an earlier message
    state.fifo_time_us = arrival;
  }
  ++state.in_flight;
  REPLSIM_ASSERT(state.in_flight <= state.model.queue_messages_max);
  loop_.at(arrival, [this, from, to, state = &state, digest, payload = payload]() mutable {
    arrive(from, to, state, std::move(payload), digest);
  });
}

void Network::arrive(NodeId from, NodeId to, LinkState* state, std::string payload,
                     uint64_t digest) {
  REPLSIM_ASSERT(state->in_flight > 0);
  --state->in_flight;
  if (blocked(from, to)) return drop(from, to, digest, &counters_.dropped_partition);
  auto it = endpoints_.find(to);
  if (it == endpoints_.end() || !it->second.up) {
    return drop(from, to, digest, &counters_.dropped_node_down);
  }
  ++counters_.delivered;
  // Traced before the handler runs, so its effects follow the delivery in the trace.
  if (trace_ != nullptr) trace_->record(loop_.now(), to.value, "net_deliver", digest);
  it->second.deliver(from, std::move(payload));
}

void Network::drop(NodeId from, NodeId to, uint64_t digest, uint64_t* reason_counter) {
  ++counters_.dropped;
  if (reason_counter != nullptr) ++*reason_counter;
  if (trace_ != nullptr) trace_->record(loop_.now(), to.value, "net_drop", digest);
}

// --- partitions ---

void Network::record_fault(const char* kind, std::string target, std::string detail) {
  if (faults_ != nullptr) faults_->record(loop_.now(), kind, std::move(target), std::move(detail));
  if (trace_ != nullptr) trace_->record(loop_.now(), UINT32_MAX, kind, 0);
}

bool Network::blocked(NodeId from, NodeId to) const {
  return !blocked_.empty() && blocked_.count({from, to}) != 0;
}

void Network::block(NodeId from, NodeId to) {
  blocked_.insert({from, to});
  record_fault("block", link_name(from, to));
}

void Network::partition(NodeId a, NodeId b) {
  blocked_.insert({a, b});
  blocked_.insert({b, a});
  record_fault("partition", link_name(a, b), "symmetric");
}

void Network::isolate(NodeId node) {
  for (const auto& [other, endpoint_state] : endpoints_) {
    if (other == node) continue;
    blocked_.insert({node, other});
    blocked_.insert({other, node});
  }
  record_fault("isolate", "node " + std::to_string(node.value));
}

void Network::split(const std::vector<std::vector<NodeId>>& groups) {
  std::string detail;
  for (size_t g = 0; g < groups.size(); ++g) {
    detail += g == 0 ? "{" : " | {";
    for (size_t i = 0; i < groups[g].size(); ++i) {
      detail += (i == 0 ? "" : ",") + std::to_string(groups[g][i].value);
    }
    detail += "}";
    for (size_t h = 0; h < groups.size(); ++h) {
      if (h == g) continue;
      for (NodeId a : groups[g]) {
        for (NodeId b : groups[h]) blocked_.insert({a, b});
      }
    }
  }
  record_fault("split", "network", detail);
}

void Network::flapping(NodeId a, NodeId b, TimeUs period_us, TimeUs until_us) {
  REPLSIM_ASSERT(period_us > 0);
  const uint64_t generation = ++flap_generation_;
  flapping_[{std::min(a, b), std::max(a, b)}] = generation;
  record_fault("flapping", link_name(a, b),
               "period_us=" + std::to_string(period_us) + " until_us=" + std::to_string(until_us));
  flap(a, b, generation, /*block_now=*/true, period_us, until_us);
}

void Network::flap(NodeId a, NodeId b, uint64_t generation, bool block_now, TimeUs period_us,
                   TimeUs until_us) {
  auto it = flapping_.find({std::min(a, b), std::max(a, b)});
  if (it == flapping_.end() || it->second != generation) return;  // healed or restarted
  if (loop_.now() >= until_us) {
    flapping_.erase(it);
    heal(a, b);
    return;
  }
  if (block_now) {
    blocked_.insert({a, b});
    blocked_.insert({b, a});
  } else {
    blocked_.erase({a, b});
    blocked_.erase({b, a});
  }
  if (trace_ != nullptr) trace_->record(loop_.now(), UINT32_MAX, "flap", block_now ? 1 : 0);
  const TimeUs next = std::min(loop_.now() + period_us, until_us);
  loop_.at(next, [this, a, b, generation, block_now, period_us, until_us] {
    flap(a, b, generation, !block_now, period_us, until_us);
  });
}

void Network::heal(NodeId a, NodeId b) {
  blocked_.erase({a, b});
  blocked_.erase({b, a});
  flapping_.erase({std::min(a, b), std::max(a, b)});
  record_fault("heal", link_name(a, b));
}

void Network::heal_all() {
  blocked_.clear();
  flapping_.clear();
  record_fault("heal_all", "network");
}

}  // namespace replsim::sim
