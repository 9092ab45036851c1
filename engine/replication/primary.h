// engine/replication/primary.h — the primary side of performance replication.
//
// Protocol (proto/replication.proto):
// - Activation: the operator creates a token bound to a secondary id with a TTL; the secret
//   stays with the operator. The secondary proves it (SHA-256 of the secret) once: the token
//   is then used up, and the primary answers with the keyring and a fresh stream credential,
//   both wrapped under a key derived from the secret. Nothing is ever sent to a node that has
//   not proven a credential: stream requests, acks and merkle rounds are authenticated.
// - Streaming: per secondary one session. Entries come from the Store's WAL buffer; batches
//   are bounded (entries, bytes) and at most inflight_batches_max are unacknowledged. Commits
//   never wait for a secondary: a slow secondary only falls behind, and once its next index has
//   been GC'd it is told "too old" and reconciles. Heartbeats every heartbeat_interval_us.
// - Epochs: a stream request from a secondary that knows a newer epoch is refused
//   (STREAM_STALE_EPOCH); one from another epoch or with from_index 0 must reconcile first.
// - Reconciliation: merkle rounds answered with engine/merkle/reconcile.h; answering the diff
//   pins a WAL guard at guard + 1 so the secondary can resume streaming after the sync.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "engine/env.h"
#include "engine/replication/replica.h"
#include "proto/api.pb.h"
#include "proto/replication.pb.h"

namespace replsim::replication {

struct ReplicationOptions {
  uint32_t cluster_id = 0;  // this node's cluster
  size_t inflight_batches_max = 32;
  TimeUs batch_window_us = 5 * kUsPerMs;
  TimeUs heartbeat_interval_us = 250 * kUsPerMs;
  TimeUs secondary_timeout_us = 2 * kUsPerSec;
  TimeUs reconnect_backoff_min_us = 100 * kUsPerMs;
  TimeUs reconnect_backoff_max_us = 2 * kUsPerSec;
  TimeUs activation_token_ttl_us = 30 * 60 * kUsPerSec;
};

struct ReplicationCounters {
  uint64_t batches_sent = 0;
  uint64_t entries_sent = 0;
  uint64_t too_old_answers = 0;
  uint64_t unauthorized_refused = 0;
  uint64_t stale_epoch_refused = 0;
  uint64_t batches_applied = 0;
  uint64_t entries_applied = 0;
  uint64_t duplicate_batches_ignored = 0;
  uint64_t merkle_diffs = 0;
  uint64_t merkle_syncs = 0;
  uint64_t keys_synced = 0;
};

class Primary {
 public:
  Primary(Env& env, Replica& replica, ReplicationOptions options, ReplicationCounters& counters);
  ~Primary();

  // Operator: a new activation token (hex of proto::ActivationToken) for `id`.
  Result<std::string> create_token(const std::string& id, TimeUs ttl_us,
                                   const std::vector<NodeId>& cluster_nodes);
  // After a commit added entries to the WAL buffer.
  void on_commit();
  // Returns true when it handled the message.
  bool handle(NodeId from, const proto::NodeEnvelope& envelope);
  void fill_status(proto::ReplicationStatus* status) const;
  // Is `proof` the credential proof of activated secondary `id`? (counts refusals)
  bool authenticated(const std::string& id, const std::string& proof);
  // Unacknowledged batches per secondary id (flow control keeps each <= inflight_batches_max).
  std::map<std::string, size_t> inflight_batches() const {
    std::map<std::string, size_t> out;
    for (const auto& [id, s] : sessions_) out[id] = s.inflight_last.size();
    return out;
  }

 private:
  struct Session {
    uint64_t session = 0;
    NodeId node;
    WalIndex next;
    std::deque<uint64_t> inflight_last;  // last index of each unacked batch
    uint64_t seq = 0;
    TimeUs last_heard_us = 0;
    bool streaming = false;
  };
  void on_activation(NodeId from, const proto::ActivationRequest& req);
  void on_stream_request(NodeId from, const proto::StreamRequest& req);
  void on_ack(const proto::WalAck& ack);
  void on_merkle(NodeId from, const proto::MerkleRound& round);
  proto::SecondaryRecord* find_secondary(const std::string& id);
  void pump(Session& s, const std::string& id);
  void pump_all();
  void heartbeat();
  void send_stream_error(NodeId to, uint64_t session, proto::StreamError error);
  void check_role() const;

  Env& env_;
  Replica& replica_;
  ReplicationOptions options_;
  ReplicationCounters& counters_;
  std::map<std::string, Session> sessions_;       // by secondary id
  std::map<std::string, uint64_t> guards_;        // by secondary id: WalGuardId
  std::map<std::string, TimeUs> last_heartbeat_;  // by secondary id (status)
  std::map<std::string, std::string> proofs_;     // by secondary id: expected credential proof
  TimerId pump_timer_ = kNoTimer;
  TimerId heartbeat_timer_ = kNoTimer;
  // Storage callbacks outlive a Primary dropped by demote/promote/step-down: they check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace replsim::replication
