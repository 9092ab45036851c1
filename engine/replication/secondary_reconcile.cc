// Secondary: activation and the merkle-diff → merkle-sync → stream-wals path.
#include <algorithm>

#include "engine/replication/credentials.h"
#include "engine/replication/envelope.h"
#include "engine/replication/secondary.h"
#include "proto/merkle.pb.h"

namespace replsim::replication {
namespace {
constexpr int kActivationAttemptsMax = 12;
constexpr TimeUs kActivationRetryUs = 1 * kUsPerSec;
}  // namespace

void Secondary::activate(const std::string& token_hex, bool clear,
                         std::function<void(Status)> done) {
  auto bytes = from_hex(token_hex);
  proto::ActivationToken token;
  if (!bytes.is_ok() || !token.ParseFromString(bytes.value()) || token.primary_nodes().empty()) {
    return done(Status::invalid_argument("malformed activation token"));
  }
  if (activation_done_) return done(Status::unavailable("an activation is in progress"));
  activation_id_ = token.secondary_id();
  activation_wrap_key_ = sha256("wrap|" + token.secret());
  activation_clear_ = clear;
  activation_done_ = std::move(done);
  activation_nodes_.clear();
  for (uint32_t n : token.primary_nodes()) activation_nodes_.push_back(NodeId(n));
  activation_attempts_ = 0;
  activation_session_ = env_.random().next_u64() | 1;
  REPLSIM_ASSERT(!activation_nodes_.empty());  // the token names at least one primary node
  std::string proof = sha256("proof|" + token.secret());
  // Held weakly by itself (a strong self-reference is a leaked cycle), strongly by the timer.
  auto attempt = std::make_shared<std::function<void()>>();
  std::weak_ptr<bool> alive = alive_;
  *attempt = [this, alive, proof, weak = std::weak_ptr<std::function<void()>>(attempt)] {
    if (alive.expired() || !activation_done_) return;
    if (activation_attempts_ >= kActivationAttemptsMax) {
      auto done = std::move(activation_done_);
      activation_done_ = nullptr;
      return done(Status::unavailable("primary did not answer the activation"));
    }
    NodeId to = activation_nodes_[activation_attempts_ % activation_nodes_.size()];
    activation_attempts_++;
    proto::NodeEnvelope out;
    auto* r = out.mutable_activation_request();
    r->set_secondary_id(activation_id_);
    r->set_secret_proof(proof);
    r->set_session(activation_session_);
    r->set_cluster_id(options_.cluster_id);
    send_envelope(env_, to, out);
    activation_timer_ = env_.schedule(kActivationRetryUs, [self = weak.lock()] { (*self)(); });
  };
  (*attempt)();
}

void Secondary::on_activation_response(const proto::ActivationResponse& r) {
  if (!activation_done_ || r.session() != activation_session_) return;
  REPLSIM_ASSERT(activation_session_ != 0);
  REPLSIM_ASSERT(!activation_nodes_.empty());
  REPLSIM_ASSERT(activation_wrap_key_.size() == 32);
  env_.cancel(activation_timer_);
  auto done = std::move(activation_done_);
  activation_done_ = nullptr;
  if (r.error() != proto::OK) return done(Status::permission_denied(r.error_message()));
  std::string label = "activation/" + activation_id_;
  auto keyring_bytes = unwrap(env_.random(), activation_wrap_key_, label, r.wrapped_keyring());
  auto credential = unwrap(env_.random(), activation_wrap_key_, label, r.wrapped_credential());
  if (!keyring_bytes.is_ok() || !credential.is_ok()) {
    return done(Status::permission_denied("activation answer does not authenticate"));
  }
  auto keyring = Keyring::parse(keyring_bytes.value());
  if (!keyring.is_ok()) return done(keyring.status());
  const auto& mine = replica_.config();
  if (!activation_clear_ && r.epoch() != mine.epoch() && is_ancestor(mine.ancestry(), r.epoch())) {
    // docs/epochs.md: never follow a primary this lineage has moved past.
    return done(Status::fenced("primary's epoch " + std::to_string(r.epoch()) +
                               " is an ancestor of this cluster's epoch " +
                               std::to_string(mine.epoch()) +
                               ": that primary was superseded (demote it, or point this cluster "
                               "at the current primary)"));
  }
  Transaction txn;
  txn.replicate = false;
  if (activation_clear_) {
    for (const auto& [path, value] : replica_.store().contents()) {
      if (replica_.mounts().is_replicated(path)) txn.del(path);
    }
  }
  auto& c = replica_.config();
  const proto::ReplicationConfig before = c;
  const Keyring keyring_before = replica_.barrier().keyring();
  c.set_mode(proto::MODE_SECONDARY);
  c.set_secondary_id(activation_id_);
  c.set_credential(credential.value());
  c.clear_primary_nodes();
  for (NodeId n : activation_nodes_) c.add_primary_nodes(n.value);
  c.set_epoch(activation_clear_ ? r.epoch() : c.epoch());
  if (activation_clear_) *c.mutable_ancestry() = r.ancestry();
  if (activation_clear_) c.clear_catch_up_index();  // an empty state is the empty prefix
  c.set_primary_epoch(r.epoch());
  c.set_highest_epoch_seen(std::max(c.highest_epoch_seen(), r.epoch()));
  c.clear_secondaries();
  c.clear_tokens();
  replica_.add_config(&txn);
  const proto::ReplicationConfig written = c;
  txn.put(std::string(kKeyringPath), keyring.value().serialize());
  replica_.barrier().install(keyring.value());
  replica_.write_keyring_file();
  primary_hint_ = NodeId();
  std::weak_ptr<bool> alive = alive_;
  replica_.commit(std::move(txn),
                  [this, alive, done, before, written, keyring_before,
                   installed = std::move(keyring.value())](Result<CommitInfo> commit) {
                    if (alive.expired()) return;
                    if (!commit.is_ok()) {
                      // All or nothing: storage still holds the previous role, so memory does too.
                      roll_back_activation(before, written, keyring_before, installed);
                      return done(commit.status());
                    }
                    done(Status());
                    start();
                  });
}

// Puts back each field the activation wrote (and the keyring it installed) unless something
// else changed it since (a merkle-sync committed meanwhile keeps its epoch), then rewrites the
// keyring and lineage files from what memory says now.
void Secondary::roll_back_activation(const proto::ReplicationConfig& before,
                                     const proto::ReplicationConfig& written,
                                     const Keyring& keyring_before, const Keyring& installed) {
  auto& c = replica_.config();
  REPLSIM_ASSERT(written.mode() == proto::MODE_SECONDARY);
  if (c.mode() == written.mode()) c.set_mode(before.mode());
  if (c.secondary_id() == written.secondary_id()) c.set_secondary_id(before.secondary_id());
  if (c.credential() == written.credential()) c.set_credential(before.credential());
  if (std::equal(c.primary_nodes().begin(), c.primary_nodes().end(),
                 written.primary_nodes().begin(), written.primary_nodes().end())) {
    *c.mutable_primary_nodes() = before.primary_nodes();
  }
  if (c.epoch() == written.epoch()) c.set_epoch(before.epoch());
  if (c.catch_up_index() == written.catch_up_index()) {
    c.set_catch_up_index(before.catch_up_index());
  }
  if (c.primary_epoch() == written.primary_epoch()) c.set_primary_epoch(before.primary_epoch());
  if (c.highest_epoch_seen() == written.highest_epoch_seen()) {
    c.set_highest_epoch_seen(before.highest_epoch_seen());
  }
  if (c.secondaries_size() == 0) *c.mutable_secondaries() = before.secondaries();
  if (c.tokens_size() == 0) *c.mutable_tokens() = before.tokens();
  if (replica_.barrier().keyring() == installed) replica_.barrier().install(keyring_before);
  replica_.write_keyring_file();
  replica_.write_lineage_file();
  REPLSIM_ASSERT(c.mode() != proto::MODE_UNKNOWN);
}

void Secondary::start_reconcile() {
  REPLSIM_ASSERT(session_ != 0);  // reconciles within the session the primary answered
  REPLSIM_ASSERT(expected_ == 0);
  set_state(proto::STATE_MERKLE_DIFF);
  counters_.merkle_diffs++;
  reconcile_head_ = 0;
  reconcile_ = std::make_unique<merkle::ReplicaReconcile>(reconcile_hash_bytes_);
  proto::MerkleDiffRequest req = reconcile_->start(replica_.merkle());
  send_merkle(1, req.SerializeAsString());
}

void Secondary::send_merkle(uint32_t kind, const std::string& body) {
  REPLSIM_ASSERT_MSG(kind == 1 || kind == 3 || kind == 5, "not a merkle request kind");
  REPLSIM_ASSERT(reconcile_ != nullptr);
  proto::NodeEnvelope out;
  auto* m = out.mutable_merkle_round();
  m->set_session(session_);
  m->set_kind(kind);
  m->set_body(body);
  m->set_secondary_id(replica_.config().secondary_id());
  m->set_credential_proof(proof());
  send_request(std::move(out), kind + 1);
}

void Secondary::on_merkle(const proto::MerkleRound& m) {
  if (m.session() != session_ || session_ == 0 || !reconcile_) return;
  if (m.kind() != expected_) return;  // a duplicate or late answer
  REPLSIM_ASSERT_MSG(state_ == proto::STATE_MERKLE_DIFF || state_ == proto::STATE_MERKLE_SYNC,
                     "a merkle answer outside reconciliation");
  take_answer();
  last_heard_us_ = env_.now_us();
  if (m.error() != proto::STREAM_OK) return schedule_reconnect();
  reconcile_head_ = std::max(reconcile_head_, m.primary_last_wal());
  merkle::MerkleIndex& index = replica_.merkle();
  Result<merkle::ReplicaStep> step = Status::invalid_argument("unexpected merkle round");
  if (m.kind() == 2) {
    proto::MerkleDiffReply reply;
    if (reply.ParseFromString(m.body())) step = reconcile_->on_diff_reply(index, reply);
  } else if (m.kind() == 4) {
    proto::MerkleBucketsReply reply;
    if (reply.ParseFromString(m.body())) step = reconcile_->on_buckets_reply(index, reply);
  } else if (m.kind() == 6) {
    proto::MerkleSyncReply reply;
    if (reply.ParseFromString(m.body())) step = reconcile_->on_sync_reply(index, reply);
  }
  if (!step.is_ok()) return schedule_reconnect();
  switch (step->kind) {
    case merkle::ReplicaStep::Kind::kDone:
      return apply_sync({});
    case merkle::ReplicaStep::Kind::kSendBuckets:
      return send_merkle(3, step->buckets.SerializeAsString());
    case merkle::ReplicaStep::Kind::kSendSync:
      set_state(proto::STATE_MERKLE_SYNC);
      return send_merkle(5, step->sync.SerializeAsString());
    case merkle::ReplicaStep::Kind::kApply:
      set_state(proto::STATE_MERKLE_SYNC);
      return apply_sync(std::move(step->changes));
  }
}

void Secondary::apply_sync(std::vector<proto::KeyChange> changes) {
  REPLSIM_ASSERT(reconcile_ != nullptr);
  REPLSIM_ASSERT(session_ != 0);
  REPLSIM_ASSERT(state_ == proto::STATE_MERKLE_DIFF || state_ == proto::STATE_MERKLE_SYNC);
  uint64_t guard = reconcile_->guard_index().value;
  uint64_t epoch = target_epoch_;
  auto& c = replica_.config();
  // Within one epoch the position never moves back.
  if (epoch == c.epoch()) guard = std::max(guard, applied_.value);
  Transaction txn;
  txn.replicate = false;
  for (auto& k : changes) {
    if (k.deleted()) {
      txn.del(k.path());
    } else {
      txn.put(k.path(), k.ciphertext());
    }
  }
  const bool epoch_changed = epoch != c.epoch();
  txn.set_last_remote = RemotePosition{WalIndex(guard), Epoch(epoch)};
  c.set_epoch(epoch);
  c.set_primary_epoch(epoch);
  if (epoch_changed) *c.mutable_ancestry() = target_ancestry_;
  // No change: the state equals the primary's at the guard (a prefix state already).
  c.set_catch_up_index(changes.empty() ? 0 : std::max(guard, reconcile_head_));
  c.set_highest_epoch_seen(std::max(c.highest_epoch_seen(), epoch));
  replica_.add_config(&txn);
  uint64_t session = session_;
  size_t fetched = changes.size();
  std::weak_ptr<bool> alive = alive_;
  replica_.commit(std::move(txn),
                  [this, alive, session, guard, fetched, epoch_changed](Result<CommitInfo> r) {
                    if (alive.expired()) return;
                    if (!r.is_ok() || session != session_) return schedule_reconnect();
                    if (!reconcile_->verify(replica_.merkle())) {
                      // The primary moved on meanwhile (or truncated hashes collided): streaming
                      // from the guard converges in the first case; the next reconciliation uses
                      // full hashes.
                      reconcile_hash_bytes_ = reconcile_->next_hash_bytes();
                    }
                    counters_.merkle_syncs++;
                    counters_.keys_synced += fetched;
                    if (epoch_changed) reset_primary_head();
                    learn_primary_head(reconcile_head_);
                    applied_ = WalIndex(guard);
                    submitted_ = applied_;
                    trim_lag_marks();
                    if (reconciled_fn_) reconciled_fn_(Epoch(replica_.config().epoch()), applied_);
                    notify_waiters();
                    resume_stream(WalIndex(guard + 1));
                  });
}

}  // namespace replsim::replication
