// The simulated network: message links between nodes, with their faults.
//
// Fault model (docs/design.md §3):
// - Every directed link (from, to) has a LinkModel: one-way latency = latency_min_us plus an
//   exponential tail of mean latency_tail_mean_us plus normal jitter, never below the minimum.
// - A link is FIFO by default (a message never overtakes an earlier one on the same link).
//   With reorder_probability a message instead takes an extra uniform delay in
//   [0, reorder_delay_max_us] outside the FIFO order, so later messages may overtake it.
// - drop_probability loses a message; duplicate_probability delivers a second copy with its
//   own latency.
// - Each directed link holds at most queue_messages_max messages in flight; a message sent
//   while the link is full is dropped (a bounded buffer, as TigerBeetle's path capacity).
// - Partitions block directed links: block() one way, partition() both ways, isolate() a node
//   from every other registered node, split() into groups, flapping() alternates a symmetric
//   partition every period until a time. A blocked link drops messages both at send time
//   and at arrival (in-flight packets on a cut link are lost). heal()/heal_all() undo them.
// - A message arriving at a node that is down is dropped (the endpoint refuses it).
// Every fault is recorded in the FaultRecorder; sends, deliveries, drops and duplicates go to
// the Trace with digest = payload_digest(payload) folded with the sender id.
// Observers see every message put on the wire (before any fault decision): checkers scan it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/types.h"
#include "sim/event_loop.h"
#include "sim/prng.h"
#include "sim/trace.h"

namespace replsim::sim {

struct LinkModel {
  TimeUs latency_min_us = 400;
  TimeUs latency_tail_mean_us = 100;  // mean of the exponential part on top of the minimum
  TimeUs jitter_stddev_us = 0;        // normal jitter (clamped so latency >= minimum)
  double drop_probability = 0.0;
  double duplicate_probability = 0.0;
  double reorder_probability = 0.0;
  TimeUs reorder_delay_max_us = 1000;
  uint32_t queue_messages_max = 1024;  // in flight per directed link

  // A datacenter LAN: 0.5 ms mean one-way.
  static LinkModel lan();
  // Between datacenters: 30 ms mean one-way, 1 ms jitter.
  static LinkModel wan();
};

struct NetworkCounters {
  uint64_t sent = 0;                // send() calls
  uint64_t delivered = 0;           // handed to a live endpoint (copies included)
  uint64_t dropped = 0;             // all drops (the ones below plus random loss)
  uint64_t dropped_partition = 0;   // blocked link at send or arrival
  uint64_t dropped_queue_full = 0;  // link at queue_messages_max
  uint64_t dropped_node_down = 0;   // endpoint missing or down at arrival
  uint64_t dropped_random = 0;      // drop_probability
  uint64_t duplicated = 0;          // extra copies created
  uint64_t reordered = 0;           // messages sent outside FIFO order
};

class Network {
 public:
  using Endpoint = std::function<void(NodeId from, std::string payload)>;
  using Observer = std::function<void(NodeId from, NodeId to, const std::string& payload)>;
  using Classifier = std::function<LinkModel(NodeId from, NodeId to)>;

  Network(EventLoop& loop, Prng prng, FaultRecorder* faults = nullptr, Trace* trace = nullptr);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Registers (or replaces) the delivery endpoint of `node`; it starts up.
  void set_endpoint(NodeId node, Endpoint endpoint);
  // A node that is down drops every message arriving at it.
  void set_up(NodeId node, bool up);
  void add_observer(Observer observer) { observers_.push_back(std::move(observer)); }

  // Puts a message on the wire from `from` to `to`. Best effort; nothing reports its fate.
  void send(NodeId from, NodeId to, std::string payload);

  // --- link models ---
  // The model of links without an explicit one (default: LAN everywhere).
  void set_classifier(Classifier classifier);
  // Sets the model of both directions between a and b; set_link_model_one_way just one.
  void set_link_model(NodeId a, NodeId b, const LinkModel& model);
  void set_link_model_one_way(NodeId from, NodeId to, const LinkModel& model);
  const LinkModel& link_model(NodeId from, NodeId to);

  // --- partitions (each recorded as a fault) ---
  void block(NodeId from, NodeId to);  // one way
  void partition(NodeId a, NodeId b);  // both ways
  // Blocks both directions between `node` and every node registered now.
  void isolate(NodeId node);
  // Blocks both directions between any two nodes of different groups.
  void split(const std::vector<std::vector<NodeId>>& groups);
  // Alternates partition(a, b) and heal(a, b) every `period_us`, starting blocked now, and
  // heals for good at `until_us`. heal(a, b) or heal_all() stops it early.
  void flapping(NodeId a, NodeId b, TimeUs period_us, TimeUs until_us);
  void heal(NodeId a, NodeId b);  // both directions, stops flapping of this pair
  void heal_all();
  bool blocked(NodeId from, NodeId to) const;

  const NetworkCounters& counters() const { return counters_; }
  size_t in_flight(NodeId from, NodeId to) const;

 private:
  struct LinkState {
    bool has_model = false;
    bool explicit_model = false;
    LinkModel model;
    uint32_t in_flight = 0;
    TimeUs fifo_time_us = 0;  // arrival time of the last in-order message
  };
  static uint64_t key(NodeId from, NodeId to) {
    return (static_cast<uint64_t>(from.value) << 32) | to.value;
  }
  LinkState& link(NodeId from, NodeId to);
  TimeUs draw_latency_us(const LinkModel& model);
  void put_in_flight(NodeId from, NodeId to, LinkState& state, const std::string& payload,
                     uint64_t digest, bool copy);
  void arrive(NodeId from, NodeId to, LinkState* state, std::string payload, uint64_t digest);
  void drop(NodeId from, NodeId to, uint64_t digest, uint64_t* reason_counter);
  void record_fault(const char* kind, std::string target, std::string detail = "");
  void flap(NodeId a, NodeId b, uint64_t generation, bool block_now, TimeUs period_us,
            TimeUs until_us);

  EventLoop& loop_;
  Prng prng_;
  FaultRecorder* faults_;
  Trace* trace_;
  Classifier classifier_;
  // Links by key(from, to): open addressing, linear probing, power-of-two size. States are
  // heap-allocated so pointers to them stay valid (deliveries hold one). Never iterated where
  // order matters.
  struct LinkSlot {
    uint64_t key = 0;
    std::unique_ptr<LinkState> state;  // null: empty slot
  };
  LinkState* find_link(uint64_t k) const;
  LinkState& find_or_add_link(uint64_t k);
  std::vector<LinkSlot> links_;
  size_t links_used_ = 0;
  struct EndpointState {
    Endpoint deliver;
    bool up = true;
  };
  std::map<NodeId, EndpointState> endpoints_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<std::pair<NodeId, NodeId>, uint64_t> flapping_;  // (min, max) → generation
  uint64_t flap_generation_ = 0;
  std::vector<Observer> observers_;
  NetworkCounters counters_;
};

std::string link_name(NodeId from, NodeId to);

}  // namespace replsim::sim
