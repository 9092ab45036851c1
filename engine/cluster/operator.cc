// Operator actions (Vault sys/replication/performance/*): enable primary, secondary token,
// enable secondary, promote, demote, update-primary, status; plus create-user (replicated).
// The role-changing ones are transitions of the node's state machine (node_impl.h).
#include <algorithm>

#include "engine/cluster/node_impl.h"
#include "engine/replication/credentials.h"
#include "engine/replication/epoch.h"
#include "engine/replication/epochs.h"
#include "engine/replication/modes.h"

namespace replsim::cluster {

void NodeImpl::finish_operator(const Status& s, uint64_t request_id, OperatorReply reply,
                               std::string token) {
  REPLSIM_ASSERT(reply != nullptr);
  proto::OperatorResponse r;
  r.set_request_id(request_id);
  if (!s.is_ok()) {
    r.set_error(s.code() == StatusCode::kPermissionDenied  ? proto::PERMISSION_DENIED
                : s.code() == StatusCode::kUnavailable     ? proto::UNAVAILABLE
                : s.code() == StatusCode::kInvalidArgument ? proto::INVALID_ARGUMENT
                                                           : proto::INTERNAL);
    r.set_error_message(s.to_string());
  }
  r.set_token(std::move(token));
  *r.mutable_status() = build_status();
  reply(std::move(r));
}

void NodeImpl::forward_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply) {
  REPLSIM_ASSERT(!active());
  if (origin.hops >= kForwardHopsMax) {
    return finish_operator(Status::unavailable("too many hops"), req.request_id(),
                           std::move(reply));
  }
  proto::ForwardRequest fwd;
  fwd.set_hops(origin.hops + 1);
  fwd.set_origin_cluster(config_.cluster_id.value);
  *fwd.mutable_operator_request() = std::move(req);
  forward([this](uint32_t a) { return active_target(a); }, std::move(fwd), nullptr,
          std::move(reply));
}

void NodeImpl::handle_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply) {
  if (!check_active()) return forward_operator(std::move(req), origin, std::move(reply));
  REPLSIM_ASSERT(replica_);
  const uint64_t id = req.request_id();
  const auto action = req.action_case();
  const proto::ReplicationMode m = mode();
  auto refuse = [&](Status s) { finish_operator(s, id, reply); };
  const bool changes_role = action == proto::OperatorRequest::kEnablePrimary ||
                            action == proto::OperatorRequest::kEnableSecondary ||
                            action == proto::OperatorRequest::kUpdatePrimary ||
                            action == proto::OperatorRequest::kPromote ||
                            action == proto::OperatorRequest::kDemote;
  if (changes_role && (role_ == Role::kPromoting || role_ == Role::kDemoting)) {
    return refuse(Status::unavailable(std::string("a role change is in progress (") +
                                      role_name(role_) + "); retry"));
  }
  const std::string mode_text(replication::mode_name(m));
  switch (action) {
    case proto::OperatorRequest::kStatus:
      return finish_operator(Status(), id, std::move(reply));
    case proto::OperatorRequest::kEnablePrimary:
      if (m != proto::MODE_DISABLED || role_ != Role::kUnreplicated) {
        return refuse(Status::invalid_argument("mode is " + mode_text));
      }
      return enable_primary(id, std::move(reply));
    case proto::OperatorRequest::kSecondaryToken:
      return secondary_token(req, std::move(reply));
    case proto::OperatorRequest::kEnableSecondary:
      if (m == proto::MODE_PRIMARY) {
        return refuse(Status::invalid_argument("mode is primary; demote first"));
      }
      return enable_secondary(req, std::move(reply));
    case proto::OperatorRequest::kUpdatePrimary: {
      if (m != proto::MODE_SECONDARY || !secondary_) {
        return refuse(Status::invalid_argument("not a secondary"));
      }
      std::weak_ptr<bool> alive = alive_;
      return secondary_->activate(req.update_primary().token(), false,
                                  [this, alive, id, reply](Status s) {
                                    if (!alive.expired()) finish_operator(s, id, reply);
                                  });
    }
    case proto::OperatorRequest::kPromote:
      if (m != proto::MODE_SECONDARY || role_ != Role::kSecondary) {
        return refuse(Status::invalid_argument("not a secondary"));
      }
      if (secondary_->catching_up()) {
        // An epoch must start from a prefix of the primary's history; right after a
        // merkle-sync the state mixes fetched (newer) values with older ones.
        return refuse(Status::unavailable(
            "catching up after merkle-sync: applied " +
            std::to_string(secondary_->applied().value) + " of " +
            std::to_string(replica_->config().catch_up_index()) +
            "; the state is not a prefix of the primary's history yet, promote later"));
      }
      return promote(id, std::move(reply));
    case proto::OperatorRequest::kDemote:
      if (m != proto::MODE_PRIMARY || role_ != Role::kPrimary) {
        return refuse(Status::invalid_argument("not a primary"));
      }
      return demote(id, std::move(reply));
    case proto::OperatorRequest::kCreateUser:
      return create_user(req, origin, std::move(reply));
    default:
      return refuse(Status::invalid_argument("no action"));
  }
}

void NodeImpl::secondary_token(const proto::OperatorRequest& req, OperatorReply reply) {
  const uint64_t id = req.request_id();
  if (!primary_) return finish_operator(Status::invalid_argument("not a primary"), id, reply);
  REPLSIM_ASSERT(role_ == Role::kPrimary);
  std::vector<NodeId> nodes = config_.cluster_nodes;
  auto token =
      primary_->create_token(req.secondary_token().id(), req.secondary_token().ttl_us(), nodes);
  if (!token.is_ok()) return finish_operator(token.status(), id, reply);
  std::string t = token.value();
  std::weak_ptr<bool> alive = alive_;
  replica_->save_config([this, alive, id, reply, t](Status s) {
    if (!alive.expired()) finish_operator(s, id, reply, s.is_ok() ? t : "");
  });
}

// Disabled → secondary, or a secondary re-activated (its data cleared): the Secondary
// persists mode, keyring and credential in one transaction and restarts streaming.
void NodeImpl::enable_secondary(const proto::OperatorRequest& req, OperatorReply reply) {
  REPLSIM_ASSERT_MSG(role_ == Role::kUnreplicated || role_ == Role::kSecondary, role_name(role_));
  REPLSIM_ASSERT(secondary_);
  const uint64_t id = req.request_id();
  std::weak_ptr<bool> alive = alive_;
  secondary_->activate(req.enable_secondary().token(), true, [this, alive, id, reply](Status s) {
    if (alive.expired()) return;
    // The activation wrote mode secondary (in memory at least, durable when s is OK).
    if (role_ == Role::kUnreplicated && mode() == proto::MODE_SECONDARY) {
      role_ = Role::kSecondary;
      check_role_objects();
    }
    finish_operator(s, id, reply);
  });
}

void NodeImpl::create_user(const proto::OperatorRequest& req, Origin origin, OperatorReply reply) {
  REPLSIM_ASSERT(active());
  REPLSIM_ASSERT(req.has_create_user());
  const uint64_t id = req.request_id();
  proto::ClientRequest w;
  w.set_request_id(id);
  w.mutable_write()->set_path(std::string(kUsersPrefix) + req.create_user().username());
  w.mutable_write()->set_value(
      replication::to_hex(replication::sha256("pw|" + req.create_user().password())));
  std::weak_ptr<bool> alive = alive_;
  handle_client(std::move(w), std::nullopt, Origin{true, origin.hops},
                [this, alive, id, reply](proto::ClientResponse r) {
                  if (alive.expired()) return;
                  Status s = r.error() == proto::OK
                                 ? Status()
                                 : Status(StatusCode::kUnavailable, r.error_message());
                  finish_operator(s, id, reply);
                });
}

// Unreplicated → primary (enable-primary) or the tail of a promotion: a new epoch, persisted
// first in the store (WAL entries carry it), then with mode primary in the config. The node
// becomes a primary once both are durable; a failed commit puts back the configuration
// `before` and the role storage says.
void NodeImpl::enable_primary(uint64_t id, OperatorReply reply,
                              std::optional<proto::ReplicationConfig> before) {
  if (role_ != Role::kPromoting) transition_to_promoting();
  auto& c = replica_->config();
  if (!before) before = c;
  uint64_t epoch = replication::next_epoch(std::max(c.highest_epoch_seen(), c.epoch()),
                                           config_.cluster_id.value);
  REPLSIM_ASSERT(epoch > c.epoch());
  c.set_mode(proto::MODE_PRIMARY);
  c.set_epoch(epoch);
  c.set_highest_epoch_seen(epoch);
  std::weak_ptr<bool> alive = alive_;
  auto fail = [this, before, id, reply](const Status& s) {
    REPLSIM_ASSERT(!s.is_ok());
    REPLSIM_ASSERT_MSG(role_ == Role::kPromoting, role_name(role_));
    replica_->config() = *before;
    transition_back_from_promoting();
    finish_operator(s, id, reply);
  };
  replica_->store().set_epoch(Epoch(epoch), [this, alive, id, reply, fail](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) return fail(s);
    fork_after_inflight_applies();
    replica_->save_config([this, alive, id, reply, fail](Status s2) {
      if (alive.expired()) return;
      if (!s2.is_ok()) return fail(s2);
      transition_to_primary();
      finish_operator(s2, id, reply);
    });
  });
}

// A promotion forks where the state is once the replicated commits submitted before it landed
// (they precede set_epoch in the store's FIFO, and report to no secondary role any more).
void NodeImpl::fork_after_inflight_applies() {
  auto& c = replica_->config();
  auto remote = replica_->store().last_remote();
  if (c.fork_epoch() == 0 || !remote || remote->epoch.value != c.fork_epoch() ||
      remote->index.value <= c.fork_index()) {
    return;
  }
  c.set_fork_index(remote->index.value);
  if (!c.ancestry().empty() && c.ancestry(0).epoch() == c.fork_epoch()) {
    c.mutable_ancestry(0)->set_fork_index(remote->index.value);
  }
}

void NodeImpl::promote(uint64_t id, OperatorReply reply) {
  REPLSIM_ASSERT_MSG(role_ == Role::kSecondary, role_name(role_));
  REPLSIM_ASSERT(mode() == proto::MODE_SECONDARY);
  auto& c = replica_->config();
  // A promotion that fails to persist (disk full, fsync failure) leaves the node what its
  // storage says: the secondary it was, not a half-promoted node without a role.
  proto::ReplicationConfig before = c;
  uint64_t applied = secondary_->applied().value;
  uint64_t primary_last = secondary_->primary_last_wal();
  uint64_t lost = primary_last > applied ? primary_last - applied : 0;
  counters_.writes_lost_on_failover += lost;
  c.set_writes_lost_on_failover(c.writes_lost_on_failover() + lost);
  c.set_primary_last_wal_seen(primary_last);
  // The new epoch holds (epoch, i) for i <= the fork only. A demoted primary (no remote position
  // in its own epoch) holds its own head.
  uint64_t fork = applied;
  auto remote = replica_->store().last_remote();
  if (!remote || remote->epoch.value != c.epoch()) {
    fork = std::max(fork, replica_->store().last_wal_index().value);
  }
  c.set_fork_epoch(c.epoch());
  c.set_fork_index(fork);
  *c.mutable_ancestry() = replication::child_ancestry(c.epoch(), fork, c.ancestry());
  transition_to_promoting();
  c.clear_primary_nodes();
  c.clear_credential();
  c.clear_primary_epoch();
  c.clear_catch_up_index();
  enable_primary(id, std::move(reply), std::move(before));
}

// Primary → secondary of its own epoch (idle until update-primary names a primary to follow).
void NodeImpl::demote(uint64_t id, OperatorReply reply) {
  REPLSIM_ASSERT(mode() == proto::MODE_PRIMARY);
  auto& c = replica_->config();
  proto::ReplicationConfig before = c;
  c.set_mode(proto::MODE_SECONDARY);
  c.set_primary_epoch(c.epoch());  // until update-primary names the primary to follow
  c.clear_primary_nodes();
  c.clear_secondaries();
  c.clear_tokens();
  transition_to_demoting();
  std::weak_ptr<bool> alive = alive_;
  replica_->save_config([this, alive, id, reply, before](Status s) {
    if (alive.expired()) return;
    // Not persisted (disk full, fsync failure): stay the primary storage says this is, rather
    // than a node whose mode says secondary with no secondary role (update-primary would
    // refuse it for good).
    if (!s.is_ok()) replica_->config() = before;
    transition_from_demoting();
    finish_operator(s, id, reply);
  });
}

}  // namespace replsim::cluster
