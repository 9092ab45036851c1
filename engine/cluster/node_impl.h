// engine/cluster/node_impl.h — internals of Node (see node.h for the architecture).
//
// The node is a state machine over Role. Each role owns exactly these objects (asserted by
// check_role_objects() at every transition):
//   kStandby      no Replica, no Primary, no Secondary; forwards everything to the active node
//   kRecovering   the lock is held and Replica::open is in flight; nothing else yet
//   kUnreplicated active, mode disabled: Replica and an idle Secondary (for enable-secondary)
//   kPrimary      active, mode primary: Replica and Primary
//   kSecondary    active, mode secondary: Replica and Secondary (idle after a demote)
//   kPromoting    active; a promotion's (or enable-primary's) commits are in flight: Replica
//                 and no Primary; the idle Secondary of an unreplicated node stays until the
//                 commits are durable
//   kDemoting     active; a demotion's commit is in flight: Replica only
// Transitions (transition_to_*) assert their source role, tear down the old role's objects
// (a destroyed Secondary answers its waiters false; a destroyed Primary cancels its timers;
// storage callbacks check a liveness token), and create the new role's. Role-changing operator
// actions are refused while kPromoting / kDemoting. The persisted mode
// (ReplicationConfig.mode) changes in the transaction whose success makes the transition.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "engine/cluster/fenced_fs.h"
#include "engine/cluster/forwarder.h"
#include "engine/cluster/ha_lock.h"
#include "engine/cluster/node.h"
#include "engine/cluster/token_cache.h"
#include "engine/cluster/write_dedupe.h"
#include "engine/replication/primary.h"
#include "engine/replication/replica.h"
#include "engine/replication/secondary.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {

inline constexpr std::string_view kUsersPrefix = "auth/userpass/users/";
inline constexpr TimeUs kHealthCheckUs = 500 * kUsPerMs;

enum class Role : uint8_t {
  kStandby,
  kRecovering,
  kUnreplicated,
  kPrimary,
  kSecondary,
  kPromoting,
  kDemoting,
};
const char* role_name(Role role);

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

 private:
  friend class Node;  // the public facade reads the observation state

  // ---- node.cc: roles and their transitions ----
  bool active() const;  // holds the lock and finished recovery
  proto::ReplicationMode mode() const;
  void transition_to_recovering(LockGeneration generation);
  void transition_to_active(std::unique_ptr<replication::Replica> replica);
  void transition_to_standby();
  // kUnreplicated / kSecondary → kPromoting (before the promotion's commits).
  void transition_to_promoting();
  // kPromoting → kPrimary once the mode "primary" is durable.
  void transition_to_primary();
  // kPromoting → the role storage still says (the promotion's commit failed).
  void transition_back_from_promoting();
  // kPrimary → kDemoting (before the demotion's commit).
  void transition_to_demoting();
  // kDemoting → kSecondary (committed) or back to kPrimary (the commit failed).
  void transition_from_demoting();
  // Creates the role objects of mode() and sets role_ (from a role without them).
  void enter_role_of_mode();
  void check_role_objects() const;
  replication::ReplicationOptions replication_options() const;

  // ---- node.cc: lifecycle and dispatch ----
  void on_message(NodeId from, std::string payload);
  void on_acquired(LockGeneration generation);
  void on_lost();
  bool check_active();
  proto::ReplicationStatus build_status() const;
  void check_health();
  void load_dedupe();

  // ---- router.cc: client requests, forwarding, read-after-write ----
  void handle_client(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                     Origin origin, Reply reply);
  void forward_to_active(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                         Origin origin, Reply reply);
  void handle_write(proto::ClientRequest req, std::optional<proto::KeyChange> sealed, Origin origin,
                    Reply reply);
  void forward_write_to_primary(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                                Origin origin, Reply reply);
  void on_primary_write_answer(proto::ClientResponse r, Reply reply);
  void handle_read(proto::ClientRequest req, Origin origin, Reply reply);
  void serve_read(const proto::ClientRequest& req, Reply reply);
  // `origin.write_epoch`, when set, must be this primary's epoch for a replicated write
  // (else UNAVAILABLE: the write may have committed in that epoch, outcome unknown).
  void commit_write(const proto::ClientRequest& req, std::optional<proto::KeyChange> sealed,
                    Origin origin, Reply reply);
  void on_write_committed(uint64_t id, bool local, bool persist, Result<CommitInfo> c);
  bool answer_from_dedupe(uint64_t id, Reply& reply);
  void forward(Forwarder::Target target, proto::ForwardRequest fwd, Reply reply,
               OperatorReply op_reply);
  void on_forward_request(NodeId from, proto::ForwardRequest fwd);
  void on_forward_answer(const proto::ForwardResponse& resp, const Reply& reply);
  void sign_cross_cluster(proto::ForwardRequest* fwd);
  NodeId active_target(uint32_t attempt);
  NodeId primary_target(uint32_t attempt);
  bool has_index_state(Position at) const;
  // The barrier for values between nodes: the replica's when active, else the keyring file's.
  Barrier* wire_barrier();

  // ---- auth.cc ----
  void login(const proto::ClientRequest& req, Reply reply);
  Status check_token(const std::string& token, int64_t* ttl_us);
  void sweep_tokens();

  // ---- operator.cc ----
  void handle_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply);
  void forward_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply);
  void secondary_token(const proto::OperatorRequest& req, OperatorReply reply);
  void enable_secondary(const proto::OperatorRequest& req, OperatorReply reply);
  void create_user(const proto::OperatorRequest& req, Origin origin, OperatorReply reply);
  // `before`: the configuration a failed commit puts back (default: the current one).
  void enable_primary(uint64_t id, OperatorReply reply,
                      std::optional<proto::ReplicationConfig> before = std::nullopt);
  void promote(uint64_t id, OperatorReply reply);
  void fork_after_inflight_applies();  // docs/epochs.md
  void demote(uint64_t id, OperatorReply reply);
  void finish_operator(const Status& s, uint64_t request_id, OperatorReply reply,
                       std::string token = "");

  Env& env_;
  NodeConfig config_;
  NodeCounters counters_;
  NodeObserver* observer_ = nullptr;
  replication::ReplicationCounters rc_;
  HaLock lock_;
  LockGeneration generation_;
  Role role_ = Role::kStandby;
  std::unique_ptr<FencedEnv> fenced_env_;
  std::unique_ptr<replication::Replica> replica_;
  std::unique_ptr<replication::Primary> primary_;
  std::unique_ptr<replication::Secondary> secondary_;
  std::unique_ptr<Barrier> standby_barrier_;
  TimerId health_timer_ = kNoTimer;
  TimerId sweep_timer_ = kNoTimer;

  Forwarder forwarder_;
  WriteDedupe dedupe_;
  TokenCache tokens_;
  // Replicated writes being committed here, by request id: a retry joins the first.
  std::map<uint64_t, std::vector<Reply>> inflight_writes_;
  std::shared_ptr<bool> alive_;
};

proto::ClientResponse error_response(uint64_t request_id, proto::ErrorCode code,
                                     const std::string& message);

}  // namespace replsim::cluster
