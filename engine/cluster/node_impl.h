// engine/cluster/node_impl.h — internals of Node (see node.h for the architecture).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "engine/cluster/fenced_fs.h"
#include "engine/cluster/ha_lock.h"
#include "engine/cluster/node.h"
#include "engine/replication/primary.h"
#include "engine/replication/replica.h"
#include "engine/replication/secondary.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {

inline constexpr uint32_t kForwardHopsMax = 4;
inline constexpr size_t kDedupeEntriesMax = 50000;
inline constexpr std::string_view kUsersPrefix = "auth/userpass/users/";
inline constexpr std::string_view kDedupePrefix = "sys/dedupe/";
inline constexpr size_t kTokenPathCacheMax = 4096;
inline constexpr TimeUs kHealthCheckUs = 500 * kUsPerMs;

using Reply = std::function<void(proto::ClientResponse)>;
using OperatorReply = std::function<void(proto::OperatorResponse)>;

// Where a request came from: decides token checks and forwarding.
struct Origin {
  bool trusted = false;  // forwarded by another cluster's node: the token was checked there
  uint32_t hops = 0;
  // Writes: ForwardRequest.write_epoch of the request (0 = not stamped yet).
  uint64_t write_epoch = 0;
};

class NodeImpl {
 public:
  NodeImpl(Env& env, NodeConfig config);
  ~NodeImpl();
  void start();

  Env& env_;
  NodeConfig config_;
  NodeCounters counters_;
  NodeObserver* observer_ = nullptr;
  replication::ReplicationCounters rc_;
  HaLock lock_;
  LockGeneration generation_;
  bool active_ = false;
  std::unique_ptr<FencedEnv> fenced_env_;
  std::unique_ptr<replication::Replica> replica_;
  std::unique_ptr<replication::Primary> primary_;
  std::unique_ptr<replication::Secondary> secondary_;

  // node.cc: lifecycle and dispatch
  void on_message(NodeId from, std::string payload);
  void on_acquired(LockGeneration generation);
  void on_lost();
  void become_active(std::unique_ptr<replication::Replica> replica);
  void start_role();
  const std::string& mode() const;
  bool check_active();
  proto::ReplicationStatus build_status() const;
  void sweep_tokens();
  void check_health();
  TimerId health_timer_ = kNoTimer;

  // router.cc: client requests, forwarding, read-after-write
  void handle_client(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                     Origin origin, Reply reply);
  void handle_write(proto::ClientRequest req, std::optional<proto::KeyChange> sealed, Origin origin,
                    Reply reply);
  void handle_read(proto::ClientRequest req, Origin origin, Reply reply);
  void serve_read(const proto::ClientRequest& req, Reply reply);
  // `origin.write_epoch`, when set, must be this primary's epoch for a replicated write
  // (else UNAVAILABLE: the write may have committed in that epoch, outcome unknown).
  void commit_write(const proto::ClientRequest& req, std::optional<proto::KeyChange> sealed,
                    Origin origin, Reply reply);
  void forward(std::function<NodeId(uint32_t attempt)> target, proto::ForwardRequest fwd,
               Reply reply, OperatorReply op_reply);
  void on_forward_request(NodeId from, proto::ForwardRequest fwd);
  void relay_forward(NodeId from, proto::ForwardRequest fwd);
  void sign_cross_cluster(proto::ForwardRequest* fwd);
  void on_forward_response(const proto::ForwardResponse& resp);
  NodeId active_target(uint32_t attempt);
  NodeId primary_target(uint32_t attempt);
  bool has_index_state(const proto::IndexState& s) const;
  // The barrier for values between nodes: the replica's when active, else the keyring file's.
  Barrier* wire_barrier();
  std::unique_ptr<Barrier> standby_barrier_;

  // auth.cc
  void login(const proto::ClientRequest& req, Reply reply);
  Status check_token(const std::string& token, int64_t* ttl_us);

  // operator.cc
  void handle_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply);
  void enable_primary(uint64_t id, OperatorReply reply);
  void promote(uint64_t id, OperatorReply reply);
  void fork_after_inflight_applies();  // docs/epochs.md
  void demote(uint64_t id, OperatorReply reply);
  void finish_operator(const Status& s, uint64_t request_id, OperatorReply reply,
                       std::string token = "");

  struct PendingForward {
    proto::ForwardRequest fwd;
    std::function<NodeId(uint32_t)> target;
    Reply reply;
    OperatorReply op_reply;
    // A standby relaying another node's forward: the answer goes back unchanged.
    std::function<void(const proto::ForwardResponse&)> relay;
    uint32_t attempt = 0;
    TimerId retry = kNoTimer;
    TimerId deadline = kNoTimer;
    std::pair<uint32_t, uint64_t> relay_key{0, 0};  // relays: (sender, its forward id)
  };
  void send_forward(uint64_t id);
  std::map<uint64_t, PendingForward> forwards_;
  // Relays in flight by (sender, sender's forward id) → own forward id: a sender's resends
  // of one forward share one relay (which resends on its own), so relays stay one per
  // request instead of one per resend (they multiplied along standby chains).
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> relays_;
  // Client request id → forwards of it pending here. A forward bounced back to a node that
  // already forwards that request is not relayed again (one pending forward per request
  // per node, whatever the chain of standbys).
  std::map<uint64_t, uint32_t> pending_requests_;
  // Forwarded client requests this active node is handling, by (sender, sender's forward id):
  // the sender's resends of one forward are dropped while it is in flight (the first handling
  // answers), so a secondary's active node opens one cross-cluster forward per request, not
  // one per standby resend. Cleared when the node stops being active.
  std::set<std::pair<uint32_t, uint64_t>> handling_;
  // Removes forward `id` (cancelling its timers) and returns it.
  PendingForward take_forward(std::map<uint64_t, PendingForward>::iterator it);
  uint64_t next_forward_id_ = 1;

  // request_id → where the write committed (epoch, WAL index). Persisted entries store it as
  // "<epoch>/<index>" (Transaction::wal_position_path); epoch 0 = position unknown (a record
  // without one), answered "outcome unknown" rather than with another write's position.
  std::map<uint64_t, proto::IndexState> dedupe_;
  std::deque<std::pair<uint64_t, bool>> dedupe_order_;  // (request id, persisted)
  std::map<uint64_t, std::vector<Reply>> inflight_writes_;
  TimerId sweep_timer_ = kNoTimer;
  std::map<std::string, std::string> token_paths_;  // token → "sys/token/<sha256>"
  std::shared_ptr<bool> alive_;
};

proto::ClientResponse error_response(uint64_t request_id, proto::ErrorCode code,
                                     const std::string& message);

}  // namespace replsim::cluster
