// engine/cluster/forwarder.h — a node's forwards in flight (standby → active node, secondary's
// active node → primary's active node), their resends, relays and timeouts.
//
// Contract:
// - forward(): the request gets a forward id of this node, is sent to target(0), resent with
//   the same id to target(1), target(2), ... every retry_us, and exactly one of `answer`
//   (the first ForwardResponse with its id) or `timed_out` (after timeout_us) is called,
//   once. Later answers are ignored.
// - relay(): a standby passes another node's forward on to its active node under an id of
//   its own and sends the answer back under the sender's id. A sender's resends of one
//   forward share one relay (which resends on its own), and a forward bounced back to a node
//   that already forwards the same client request is not relayed again: one pending forward
//   per client request per node, whatever the chain of standbys. A relay that times out is
//   dropped silently (the sender times out with its own error).
// - begin_handling()/end_handling(): the receiving active node handles each (sender, forward
//   id) once; resends while it is in flight are dropped (the first handling answers), so a
//   secondary's active node opens one cross-cluster forward per request, not one per resend.
// - Forward ids of one incarnation must not collide with a previous one's (start()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "engine/env.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {

inline constexpr uint32_t kForwardHopsMax = 4;

class Forwarder {
 public:
  using Target = std::function<NodeId(uint32_t attempt)>;
  using Answer = std::function<void(const proto::ForwardResponse&)>;
  using TimedOut = std::function<void()>;
  // Called before every send of an own forward (first send and resends); may update it.
  using BeforeSend = std::function<void(proto::ForwardRequest*)>;

  Forwarder(Env& env, TimeUs timeout_us, TimeUs retry_us);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // `first_id`: the first forward id of this incarnation (odd, random).
  void start(uint64_t first_id);
  void set_before_send(BeforeSend fn) { before_send_ = std::move(fn); }

  void forward(Target target, proto::ForwardRequest fwd, Answer answer, TimedOut timed_out);
  // Returns false when nothing was relayed (too many hops, a resend, or bounced back).
  bool relay(NodeId from, proto::ForwardRequest fwd, Target target);
  // Routes an answer to its forward or relay; late or duplicate answers are ignored.
  void on_response(const proto::ForwardResponse& resp);

  bool begin_handling(NodeId from, uint64_t forward_id);
  void end_handling(NodeId from, uint64_t forward_id);
  // The node stopped being active: forgets what it was handling (its answers are gone).
  void clear_handling() { handling_.clear(); }

  size_t pending() const { return forwards_.size(); }
  size_t relays() const { return relays_.size(); }
  size_t handling() const { return handling_.size(); }
  uint64_t requests_forwarded() const { return requests_forwarded_; }

 private:
  using SenderKey = std::pair<uint32_t, uint64_t>;  // (sender node, its forward id)
  struct Pending {
    proto::ForwardRequest fwd;
    Target target;
    Answer answer;       // own forwards
    TimedOut timed_out;  // own forwards
    bool relay = false;
    SenderKey relay_key{0, 0};
    uint32_t attempt = 0;
    TimerId retry = kNoTimer;
    TimerId deadline = kNoTimer;
  };
  // Adds a forward under a new id and sends it; returns the id.
  uint64_t add(Pending p);
  void send(uint64_t id);
  void expire(uint64_t id);
  // Removes forward `it` (cancelling its timers and its bookkeeping) and returns it.
  Pending take(std::map<uint64_t, Pending>::iterator it);
  void check_bookkeeping() const;

  Env& env_;
  TimeUs timeout_us_;
  TimeUs retry_us_;
  BeforeSend before_send_;
  uint64_t next_id_ = 1;
  uint64_t requests_forwarded_ = 0;
  std::map<uint64_t, Pending> forwards_;
  std::map<SenderKey, uint64_t> relays_;           // relays in flight → own forward id
  std::map<uint64_t, uint32_t> pending_requests_;  // client request id → own forwards of it
  std::set<SenderKey> handling_;                   // forwards this active node is handling
};

}  // namespace replsim::cluster
