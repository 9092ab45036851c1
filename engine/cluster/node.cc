#include "engine/cluster/node.h"

#include "engine/cluster/node_impl.h"
#include "engine/replication/envelope.h"
#include "engine/replication/modes.h"

namespace replsim::cluster {

using replication::send_envelope;

proto::ClientResponse error_response(uint64_t request_id, proto::ErrorCode code,
                                     const std::string& message) {
  proto::ClientResponse r;
  r.set_request_id(request_id);
  r.set_error(code);
  r.set_error_message(message);
  return r;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kStandby:
      return "standby";
    case Role::kRecovering:
      return "recovering";
    case Role::kUnreplicated:
      return "unreplicated";
    case Role::kPrimary:
      return "primary";
    case Role::kSecondary:
      return "secondary";
    case Role::kPromoting:
      return "promoting";
    case Role::kDemoting:
      return "demoting";
  }
  return "?";
}

NodeImpl::NodeImpl(Env& env, NodeConfig config)
    : env_(env),
      config_(std::move(config)),
      lock_(
          env, env.fs(), config_.lock_renew_interval_us, config_.lock_lease_us,
          [this](LockGeneration g) { on_acquired(g); }, [this] { on_lost(); }),
      forwarder_(env, config_.forward_timeout_us, config_.forward_retry_us),
      alive_(std::make_shared<bool>(true)) {
  // A cross-cluster forward carries the secondary's current credential: update-primary may
  // have replaced it since the first send.
  forwarder_.set_before_send([this](proto::ForwardRequest* fwd) {
    if (!fwd->secondary_id().empty() && secondary_) sign_cross_cluster(fwd);
  });
}

NodeImpl::~NodeImpl() {
  *alive_ = false;
  env_.cancel(sweep_timer_);
  env_.cancel(health_timer_);
}

void NodeImpl::start() {
  REPLSIM_ASSERT(role_ == Role::kStandby);
  // Forward ids of one incarnation must not collide with a previous one's: a relay or an
  // answer still in flight for the old id would be taken for the new request.
  forwarder_.start((env_.random().next_u64() >> 2) | 1);
  env_.set_receiver([this](NodeId from, std::string payload) { on_message(from, payload); });
  lock_.start();
}

// ---- roles ----

bool NodeImpl::active() const { return role_ != Role::kStandby && role_ != Role::kRecovering; }

proto::ReplicationMode NodeImpl::mode() const {
  return replica_ ? replica_->config().mode() : proto::MODE_DISABLED;
}

void NodeImpl::check_role_objects() const {
  switch (role_) {
    case Role::kStandby:
    case Role::kRecovering:
      REPLSIM_ASSERT(!replica_);
      REPLSIM_ASSERT(!primary_);
      REPLSIM_ASSERT(!secondary_);
      return;
    case Role::kUnreplicated:
    case Role::kSecondary:
      REPLSIM_ASSERT(replica_);
      REPLSIM_ASSERT(!primary_);
      REPLSIM_ASSERT(secondary_);
      return;
    case Role::kPrimary:
      REPLSIM_ASSERT(replica_);
      REPLSIM_ASSERT(primary_);
      REPLSIM_ASSERT(!secondary_);
      return;
    case Role::kPromoting:  // an unreplicated node's idle Secondary may stay meanwhile
      REPLSIM_ASSERT(replica_);
      REPLSIM_ASSERT(!primary_);
      return;
    case Role::kDemoting:
      REPLSIM_ASSERT(replica_);
      REPLSIM_ASSERT(!primary_);
      REPLSIM_ASSERT(!secondary_);
      return;
  }
}

replication::ReplicationOptions NodeImpl::replication_options() const {
  replication::ReplicationOptions o;
  o.cluster_id = config_.cluster_id.value;
  o.inflight_batches_max = config_.inflight_batches_max;
  o.batch_window_us = config_.batch_window_us;
  o.heartbeat_interval_us = config_.heartbeat_interval_us;
  o.secondary_timeout_us = config_.secondary_timeout_us;
  o.reconnect_backoff_min_us = config_.reconnect_backoff_min_us;
  o.reconnect_backoff_max_us = config_.reconnect_backoff_max_us;
  o.activation_token_ttl_us = config_.activation_token_ttl_us;
  return o;
}

void NodeImpl::enter_role_of_mode() {
  REPLSIM_ASSERT(replica_);
  primary_.reset();
  secondary_.reset();
  const proto::ReplicationMode m = mode();
  if (m == proto::MODE_PRIMARY) {
    primary_ = std::make_unique<replication::Primary>(env_, *replica_, replication_options(), rc_);
    role_ = Role::kPrimary;
  } else {
    REPLSIM_ASSERT_MSG(m == proto::MODE_SECONDARY || m == proto::MODE_DISABLED,
                       "a replication config without a mode");
    secondary_ = std::make_unique<replication::Secondary>(
        env_, *replica_, replication_options(), rc_,
        [this](Epoch e, WalIndex i) {
          if (observer_) observer_->on_wal_applied(env_.self(), e, i);
        },
        [this](proto::ReplicationState s) {
          if (observer_) observer_->on_state(env_.self(), std::string(replication::state_name(s)));
        });
    secondary_->set_reconciled_callback([this](Epoch e, WalIndex guard) {
      if (observer_) observer_->on_reconciled(env_.self(), e, guard);
    });
    role_ = m == proto::MODE_SECONDARY ? Role::kSecondary : Role::kUnreplicated;
    secondary_->start();
  }
  check_role_objects();
}

void NodeImpl::transition_to_recovering(LockGeneration generation) {
  REPLSIM_ASSERT_MSG(role_ == Role::kStandby, role_name(role_));
  REPLSIM_ASSERT(generation.value != 0);
  generation_ = generation;
  role_ = Role::kRecovering;
  check_role_objects();
}

void NodeImpl::transition_to_active(std::unique_ptr<replication::Replica> replica) {
  REPLSIM_ASSERT_MSG(role_ == Role::kRecovering, role_name(role_));
  REPLSIM_ASSERT(replica != nullptr);
  REPLSIM_ASSERT(replica->generation() == generation_);
  REPLSIM_ASSERT(inflight_writes_.empty());
  replica_ = std::move(replica);
  counters_.index_rebuilds += replica_->counters().index_rebuilds;
  load_dedupe();
  enter_role_of_mode();
  sweep_timer_ = env_.schedule(10 * kUsPerSec, [this] { sweep_tokens(); });
  health_timer_ = env_.schedule(kHealthCheckUs, [this] { check_health(); });
  if (observer_) observer_->on_active(env_.self(), generation_);
}

// Every object of the old role goes: a Secondary answers its waiters false, a Primary cancels
// its timers, storage callbacks of the replica find their liveness token expired; writes in
// flight lose their answers (their clients time out: outcome unknown) and forwards being
// handled here are forgotten (the senders resend to the next active node).
void NodeImpl::transition_to_standby() {
  REPLSIM_ASSERT_MSG(role_ != Role::kStandby, "already a standby");
  role_ = Role::kStandby;
  primary_.reset();
  secondary_.reset();
  replica_.reset();
  env_.cancel(sweep_timer_);
  env_.cancel(health_timer_);
  sweep_timer_ = kNoTimer;
  health_timer_ = kNoTimer;
  inflight_writes_.clear();
  forwarder_.clear_handling();
  check_role_objects();
}

void NodeImpl::transition_to_promoting() {
  REPLSIM_ASSERT_MSG(role_ == Role::kSecondary || role_ == Role::kUnreplicated, role_name(role_));
  // A secondary stops following its primary now (its waiters are answered false); an
  // unreplicated node keeps its idle Secondary until the promotion is durable.
  if (role_ == Role::kSecondary) secondary_.reset();
  role_ = Role::kPromoting;
  check_role_objects();
}

void NodeImpl::transition_to_primary() {
  REPLSIM_ASSERT_MSG(role_ == Role::kPromoting, role_name(role_));
  REPLSIM_ASSERT(mode() == proto::MODE_PRIMARY);
  enter_role_of_mode();
  REPLSIM_ASSERT(role_ == Role::kPrimary);
}

void NodeImpl::transition_back_from_promoting() {
  REPLSIM_ASSERT_MSG(role_ == Role::kPromoting, role_name(role_));
  REPLSIM_ASSERT(mode() != proto::MODE_PRIMARY);
  if (secondary_) {  // an unreplicated node: its idle Secondary never stopped
    REPLSIM_ASSERT(mode() == proto::MODE_DISABLED);
    role_ = Role::kUnreplicated;
    check_role_objects();
    return;
  }
  enter_role_of_mode();
}

void NodeImpl::transition_to_demoting() {
  REPLSIM_ASSERT_MSG(role_ == Role::kPrimary, role_name(role_));
  primary_.reset();
  role_ = Role::kDemoting;
  check_role_objects();
}

void NodeImpl::transition_from_demoting() {
  REPLSIM_ASSERT_MSG(role_ == Role::kDemoting, role_name(role_));
  enter_role_of_mode();
  REPLSIM_ASSERT(role_ == Role::kSecondary || role_ == Role::kPrimary);
}

// ---- lifecycle ----

void NodeImpl::on_acquired(LockGeneration generation) {
  counters_.lock_acquisitions++;
  transition_to_recovering(generation);
  fenced_env_ = std::make_unique<FencedEnv>(
      env_, [this, generation] { return lock_.still_holds(generation); },
      &counters_.fenced_writes_refused);
  replication::ReplicaOptions options;
  options.local_prefixes = config_.local_prefixes;
  options.wal.buffer_entries_max = config_.wal_buffer_entries_max;
  options.wal.batch_entries_max = config_.batch_entries_max;
  options.wal.batch_bytes_max = config_.batch_bytes_max;
  options.wal.guard_ttl_us = config_.guard_ttl_us;
  options.merkle_flush_interval_us = config_.merkle_flush_interval_us;
  options.merkle_flush_fraction = config_.merkle_flush_fraction;
  options.merkle_shape.root_bits = config_.merkle_root_bits;
  options.merkle_shape.sub_bits = config_.merkle_sub_bits;
  options.merkle_page_frame_bytes = config_.merkle_page_frame_bytes;
  if (env_.buggify("cluster.tiny_wal_buffer")) options.wal.buffer_entries_max = 64;
  std::weak_ptr<bool> alive = alive_;
  replication::Replica::open(
      *fenced_env_, options, generation,
      [this, alive, generation](Result<std::unique_ptr<replication::Replica>> r) {
        if (alive.expired() || generation != generation_) return;
        // Lost the lock while recovering: stay a standby (it was one before it finished).
        if (role_ != Role::kRecovering) return;
        if (!r.is_ok()) {
          lock_.release();  // let another node try; this one retries on its next tick
          return transition_to_standby();
        }
        transition_to_active(std::move(r.value()));
      });
}

void NodeImpl::load_dedupe() {
  REPLSIM_ASSERT(replica_);
  dedupe_.clear();
  replica_->store().scan(kDedupePrefix, [this](const std::string& path, const std::string& v) {
    dedupe_.load(path, v);  // "<epoch>/<index>" of the write's own WAL entry
    return true;
  });
}

// A store that failed (fsync error: it acknowledges nothing until reopened) or a merkle
// index that met corruption makes this node step down: it gives the lock up, and whichever
// node takes it next (possibly this one) reopens storage and recovers the index.
void NodeImpl::check_health() {
  health_timer_ = kNoTimer;
  if (!active()) return;
  REPLSIM_ASSERT(replica_);
  bool healthy = !replica_->store().failed() && replica_->aries().health().is_ok();
  if (healthy) {
    health_timer_ = env_.schedule(kHealthCheckUs, [this] { check_health(); });
    return;
  }
  counters_.step_downs++;
  lock_.release();
  on_lost();
}

void NodeImpl::on_lost() {
  REPLSIM_ASSERT_MSG(role_ != Role::kStandby, "the lock was lost by a standby");
  transition_to_standby();
}

bool NodeImpl::check_active() {
  if (!active()) return false;
  lock_.held();  // re-reads the record: a resumed former active steps down here
  return active();
}

void NodeImpl::on_message(NodeId from, std::string payload) {
  proto::NodeEnvelope e;
  if (!e.ParseFromString(payload)) return;
  switch (e.body_case()) {
    case proto::NodeEnvelope::kClientRequest: {
      handle_client(std::move(*e.mutable_client_request()), std::nullopt, Origin{},
                    [this, from](proto::ClientResponse r) {
                      proto::NodeEnvelope out;
                      *out.mutable_client_response() = std::move(r);
                      send_envelope(env_, from, out);
                    });
      return;
    }
    case proto::NodeEnvelope::kOperatorRequest:
      handle_operator(std::move(*e.mutable_operator_request()), Origin{},
                      [this, from](proto::OperatorResponse r) {
                        proto::NodeEnvelope out;
                        *out.mutable_operator_response() = std::move(r);
                        send_envelope(env_, from, out);
                      });
      return;
    case proto::NodeEnvelope::kForwardRequest:
      on_forward_request(from, std::move(*e.mutable_forward_request()));
      return;
    case proto::NodeEnvelope::kForwardResponse:
      forwarder_.on_response(e.forward_response());
      return;
    default:
      break;
  }
  const bool stream_request = e.body_case() == proto::NodeEnvelope::kStreamRequest;
  REPLSIM_ASSERT_MSG(!(primary_ && secondary_), "a node with two roles");
  if (check_active()) {
    if (primary_ && primary_->handle(from, e)) return;
    if (secondary_ && secondary_->handle(from, e)) return;
    if (stream_request) rc_.stale_epoch_refused++;
  }
  if (stream_request) {  // a standby, or not the primary: the secondary looks elsewhere
    proto::NodeEnvelope out;
    auto* r = out.mutable_stream_response();
    r->set_session(e.stream_request().session());
    r->set_error(proto::STREAM_NOT_PRIMARY);
    send_envelope(env_, from, out);
  }
}

proto::ReplicationStatus NodeImpl::build_status() const {
  proto::ReplicationStatus s;
  s.set_node(env_.self().value);
  s.set_cluster_id(config_.cluster_id.value);
  s.set_is_active(active());
  s.set_lock_generation(generation_.value);
  proto::ReplicationMode mode = proto::MODE_UNKNOWN;
  proto::ReplicationState state = proto::STATE_IDLE;
  REPLSIM_ASSERT(active() == (replica_ != nullptr));
  if (active()) {
    state = proto::STATE_UNKNOWN;  // no role object while promoting or demoting: no state
    const auto& c = replica_->config();
    mode = c.mode();
    s.set_epoch(c.epoch());
    s.set_last_wal(replica_->store().last_wal_index().value);
    s.set_merkle_root(replica_->merkle().root_hex());
    if (primary_) {
      state = proto::STATE_RUNNING;
      primary_->fill_status(&s);
    } else if (secondary_) {
      state = secondary_->state();
      s.set_last_remote_wal(secondary_->applied().value);
      s.set_secondary_id(c.secondary_id());
      s.set_primary_cluster_addr(std::to_string(c.primary_cluster_id()));
      uint64_t plw = secondary_->primary_last_wal();
      s.set_lag_entries(plw > secondary_->applied().value ? plw - secondary_->applied().value : 0);
      s.set_lag_us(secondary_->lag_us());
      s.set_last_heartbeat_us(secondary_->last_heartbeat_us());
    }
  }
  // Vault's names at the API edge; the values beside them.
  s.set_mode(std::string(replication::mode_name(mode)));
  if (state != proto::STATE_UNKNOWN) s.set_state(std::string(replication::state_name(state)));
  s.set_replication_mode(mode);
  s.set_replication_state(state);
  return s;
}

// ---- Node ----

Node::Node(Env& env, NodeConfig config) : impl_(new NodeImpl(env, std::move(config))) {}
Node::~Node() = default;
void Node::start() { impl_->start(); }
void Node::set_observer(NodeObserver* observer) { impl_->observer_ = observer; }
NodeId Node::id() const { return impl_->env_.self(); }
ClusterId Node::cluster_id() const { return impl_->config_.cluster_id; }
bool Node::is_active() const { return impl_->active(); }
LockGeneration Node::lock_generation() const {
  return impl_->active() ? impl_->generation_ : LockGeneration();
}
proto::ReplicationStatus Node::status() const { return impl_->build_status(); }

const NodeCounters& Node::counters() const {
  NodeCounters& c = impl_->counters_;
  const auto& r = impl_->rc_;
  c.batches_sent = r.batches_sent;
  c.entries_sent = r.entries_sent;
  c.batches_applied = r.batches_applied;
  c.entries_applied = r.entries_applied;
  c.duplicate_batches_ignored = r.duplicate_batches_ignored;
  c.stale_epoch_refused = r.stale_epoch_refused;
  c.merkle_diffs = r.merkle_diffs;
  c.merkle_syncs = r.merkle_syncs;
  c.keys_synced = r.keys_synced;
  c.too_old_answers = r.too_old_answers;
  c.unauthorized_streams_refused = r.unauthorized_refused;
  c.requests_forwarded = impl_->forwarder_.requests_forwarded();
  c.foreign_tokens_refused = impl_->tokens_.unknown_refused();
  return c;
}

std::optional<std::map<std::string, std::string>> Node::replicated_snapshot() const {
  if (!impl_->active()) return std::nullopt;
  return impl_->replica_->replicated_plaintext();
}
std::map<std::string, uint64_t> Node::queue_sizes() const {
  std::map<std::string, uint64_t> q;
  if (!impl_->active()) return q;
  const WalBuffer& wal = impl_->replica_->store().wal();
  q["wal_buffer_entries"] = wal.size();
  q["wal_guards"] = wal.guards();
  q["dedupe_entries"] = impl_->dedupe_.size();
  q["forwards_pending"] = impl_->forwarder_.pending();
  q["inflight_writes"] = impl_->inflight_writes_.size();
  if (impl_->secondary_) q["waiters"] = impl_->secondary_->waiters();
  if (impl_->primary_) {
    for (const auto& [id, n] : impl_->primary_->inflight_batches()) {
      q["inflight_batches/" + id] = n;
    }
  }
  return q;
}
std::optional<std::map<std::string, std::string>> Node::replicated_raw() const {
  if (!impl_->active()) return std::nullopt;
  std::map<std::string, std::string> out;
  const Store& store = impl_->replica_->store();
  for (const auto& [path, value] : store.contents()) {
    if (store.mounts().is_replicated(path)) out.emplace(path, value);
  }
  return out;
}
std::optional<std::map<std::string, std::string>> Node::local_snapshot() const {
  if (!impl_->active()) return std::nullopt;
  return impl_->replica_->local_raw();
}
const Store* Node::store() const {
  if (!impl_->active()) return nullptr;
  return &impl_->replica_->store();
}
const Barrier* Node::barrier() const {
  if (!impl_->active()) return nullptr;
  return &impl_->replica_->barrier();
}
std::string Node::merkle_root_hex() const {
  if (!impl_->active()) return "";
  return impl_->replica_->merkle().root_hex();
}
Epoch Node::epoch() const {
  if (!impl_->replica_) return Epoch();
  return Epoch(impl_->replica_->config().epoch());
}
WalIndex Node::last_wal() const {
  if (!impl_->replica_) return WalIndex();
  return impl_->replica_->store().last_wal_index();
}
WalIndex Node::last_remote_wal() const {
  if (!impl_->secondary_) return WalIndex();
  return impl_->secondary_->applied();
}

}  // namespace replsim::cluster
