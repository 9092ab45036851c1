// engine/replication/secondary.h — the secondary side: activation, streaming, reconciliation.
//
// State machine (Vault's names): idle → connecting → (stream-wals | merkle-diff →
// merkle-sync → stream-wals); any failure or silence → connecting again after a backoff
// (doubling from reconnect_backoff_min_us to _max_us). idle = no primary configured.
// Invariants:
// - Batches are applied strictly in index order, each entry once: entries at or below the
//   applied index are skipped (duplicates), a batch starting past applied + 1 (a gap) sends
//   the secondary back to connecting, which re-requests from applied + 1 (or reconciles).
// - Within an epoch the applied index never moves backwards (asserted). A batch, heartbeat or
//   answer of another session or an older epoch is ignored (fencing of old-epoch streams).
// - Merkle-sync applies its changes in one storage transaction that also records the resume
//   position (guard, epoch); streaming then resumes at guard + 1. When it changed keys, the
//   same transaction records config catch_up_index: the primary's head during the rounds.
//   The fetched values may be that new while the other keys are at the guard, so the state
//   is a prefix of the primary's history again only once applied() reaches catch_up_index;
//   until then catching_up() is true and promotion is refused (cluster/operator.cc).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "engine/env.h"
#include "engine/merkle/reconcile.h"
#include "engine/replication/epoch.h"
#include "engine/replication/primary.h"
#include "engine/replication/replica.h"

namespace replsim::replication {

class Secondary {
 public:
  using Applied = std::function<void(Epoch, WalIndex)>;
  using StateChanged = std::function<void(proto::ReplicationState)>;
  using Reconciled = std::function<void(Epoch, WalIndex guard)>;

  Secondary(Env& env, Replica& replica, ReplicationOptions options, ReplicationCounters& counters,
            Applied applied, StateChanged state_changed);
  ~Secondary();

  // Activation (enable-secondary, clear = true; update-primary, clear = false). `done` gets
  // the outcome once the keyring and configuration are durable.
  void activate(const std::string& token_hex, bool clear, std::function<void(Status)> done);
  // Starts (or restarts) streaming from the persisted configuration.
  void start();
  bool handle(NodeId from, const proto::NodeEnvelope& envelope);

  void set_reconciled_callback(Reconciled fn) { reconciled_fn_ = std::move(fn); }
  proto::ReplicationState state() const { return state_; }
  Epoch epoch() const { return Epoch(replica_.config().epoch()); }
  WalIndex applied() const { return applied_; }
  uint64_t primary_last_wal() const { return primary_last_wal_; }
  // Replication lag on this secondary's own clock (no cross-node clock comparison): 0 when
  // applied() has reached the highest primary index it knows of (primary_last_wal()); else
  // the time since it first learned (from a batch, heartbeat or stream answer) of the oldest
  // primary index it has not applied yet. Reset when it starts following another primary
  // lineage (activation, restart, or a merkle-sync into another epoch).
  TimeUs lag_us() const;
  TimeUs last_heartbeat_us() const { return last_heartbeat_us_; }
  // After a merkle-sync that changed keys, until applied() reaches the primary's head
  // during that sync (config catch_up_index): the state is no prefix state yet.
  bool catching_up() const { return replica_.config().catch_up_index() > applied_.value; }
  // Has position `at` of the primary lineage been applied here?
  bool has_state(Position at) const;
  // Calls fn(true) once has_state, or fn(false) after timeout_us (own clock), or fn(false)
  // from a later event when this Secondary is destroyed first (promotion, demotion to idle,
  // loss of the lock): a waiter is always answered. fn must check its owner is still alive.
  void wait_for(Position at, TimeUs timeout_us, std::function<void(bool)> fn);
  NodeId primary_hint() const;
  // This secondary's stream credential proof (cached) and id: cross-cluster forwards carry
  // them so the primary accepts the forward.
  const std::string& proof();
  const std::string& secondary_id() const { return replica_.config().secondary_id(); }
  void set_primary_hint(NodeId node) { primary_hint_ = node; }
  size_t waiters() const { return waiters_.size(); }  // pending wait_for() calls

 private:
  void set_state(proto::ReplicationState state);
  void connect();
  void schedule_reconnect();
  void arm_watchdog();
  void on_activation_response(const proto::ActivationResponse& r);
  void roll_back_activation(const proto::ReplicationConfig& before,
                            const proto::ReplicationConfig& written, const Keyring& keyring_before,
                            const Keyring& installed);
  void on_stream_response(NodeId from, const proto::StreamResponse& r);
  void on_stream_accepted(NodeId from);
  void on_batch(NodeId from, const proto::WalBatch& b);
  void on_heartbeat(NodeId from, const proto::Heartbeat& h);
  void on_merkle(const proto::MerkleRound& m);
  void start_reconcile();
  void send_merkle(uint32_t kind, const std::string& body);
  void apply_sync(std::vector<proto::KeyChange> changes);
  void resume_stream(WalIndex from);
  void send_ack();
  // Sends a request that expects an answer of kind `expected` (kStreamAnswer or a merkle
  // reply kind) and resends it every kRequestRetryUs until answered; after
  // kRequestAttemptsMax it reconnects. Answers of any other kind, or late duplicates, are
  // ignored by the handlers (expected_ is reset once one is taken).
  void send_request(proto::NodeEnvelope out, uint32_t expected);
  void take_answer();
  void notify_waiters();
  // The primary reported its WAL head `index` (batch, heartbeat, stream answer).
  void learn_primary_head(uint64_t index);
  // Forgets what it knew of the primary's head (another lineage from now on).
  void reset_primary_head();
  // Drops lag marks at or below applied_.
  void trim_lag_marks();
  std::string proof_;             // cached credential proof
  std::string proof_credential_;  // the credential it was computed from

  Env& env_;
  Replica& replica_;
  ReplicationOptions options_;
  ReplicationCounters& counters_;
  Applied applied_fn_;
  StateChanged state_fn_;
  Reconciled reconciled_fn_;
  proto::ReplicationState state_ = proto::STATE_IDLE;
  uint64_t session_ = 0;
  NodeId primary_hint_;
  size_t primary_rotation_ = 0;
  WalIndex applied_;    // acknowledged by storage
  WalIndex submitted_;  // handed to storage
  uint64_t primary_last_wal_ = 0;
  // (primary head index, own time it was first learned), increasing in both; at most
  // kLagMarksMax (when full, the newest mark is raised instead: lag stays an upper bound).
  static constexpr size_t kLagMarksMax = 1024;
  std::deque<std::pair<uint64_t, TimeUs>> lag_marks_;
  uint64_t target_epoch_ = 0;    // epoch of the primary being reconciled with
  Ancestry target_ancestry_;     // its ancestry (docs/epochs.md)
  uint64_t reconcile_head_ = 0;  // highest primary head in this reconciliation's replies
  TimeUs last_heard_us_ = 0;
  TimeUs last_heartbeat_us_ = 0;
  TimeUs backoff_us_ = 0;
  int stalled_heartbeats_ = 0;
  bool batch_since_heartbeat_ = false;
  uint64_t activation_session_ = 0;
  TimerId reconnect_timer_ = kNoTimer;
  TimerId watchdog_timer_ = kNoTimer;
  TimerId request_timer_ = kNoTimer;
  uint32_t expected_ = 0;
  int request_attempts_ = 0;
  proto::NodeEnvelope pending_request_;
  std::unique_ptr<merkle::ReplicaReconcile> reconcile_;
  uint32_t reconcile_hash_bytes_ = merkle::kDefaultHashBytes;
  // activation in progress
  std::string activation_wrap_key_;
  std::string activation_id_;
  bool activation_clear_ = false;
  std::function<void(Status)> activation_done_;
  std::vector<NodeId> activation_nodes_;
  TimerId activation_timer_ = kNoTimer;
  int activation_attempts_ = 0;
  struct Waiter {
    std::function<void(bool)> fn;
    TimerId timer;
  };
  // Keyed by (position, waiter id). has_state() holds for a prefix of this order, so
  // notify_waiters() only visits the waiters it wakes (it ran once per applied entry over all
  // waiters before: 28 % of a standard scenario's CPU).
  using WaiterKey = std::pair<Position, uint64_t>;
  std::map<WaiterKey, Waiter> waiters_;
  uint64_t next_waiter_ = 1;
  std::shared_ptr<bool> alive_;
};

}  // namespace replsim::replication
