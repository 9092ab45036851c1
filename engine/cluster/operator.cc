// Operator actions (Vault sys/replication/performance/*): enable primary, secondary token,
// enable secondary, promote, demote, update-primary, status; plus create-user (replicated).
#include <algorithm>

#include "engine/cluster/node_impl.h"
#include "engine/replication/epoch.h"
#include "engine/replication/messenger.h"

namespace replsim::cluster {

void NodeImpl::finish_operator(const Status& s, uint64_t request_id, OperatorReply reply,
                               std::string token) {
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

void NodeImpl::handle_operator(proto::OperatorRequest req, Origin origin, OperatorReply reply) {
  uint64_t id = req.request_id();
  if (!check_active()) {
    if (origin.hops >= kForwardHopsMax) {
      return finish_operator(Status::unavailable("too many hops"), id, std::move(reply));
    }
    proto::ForwardRequest fwd;
    fwd.set_hops(origin.hops + 1);
    fwd.set_origin_cluster(config_.cluster_id.value);
    *fwd.mutable_operator_request() = std::move(req);
    return forward([this](uint32_t a) { return active_target(a); }, std::move(fwd), nullptr,
                   std::move(reply));
  }
  std::weak_ptr<bool> alive = alive_;
  auto done = [this, alive, id, reply](Status s) {
    if (!alive.expired()) finish_operator(s, id, reply);
  };
  const std::string& m = mode();
  switch (req.action_case()) {
    case proto::OperatorRequest::kStatus:
      return finish_operator(Status(), id, std::move(reply));
    case proto::OperatorRequest::kEnablePrimary:
      if (m != "disabled") return done(Status::invalid_argument("mode is " + m));
      return enable_primary(id, std::move(reply));
    case proto::OperatorRequest::kSecondaryToken: {
      if (!primary_) return done(Status::invalid_argument("not a primary"));
      std::vector<NodeId> nodes = config_.cluster_nodes;
      auto token =
          primary_->create_token(req.secondary_token().id(), req.secondary_token().ttl_us(), nodes);
      if (!token.is_ok()) return done(token.status());
      std::string t = token.value();
      return replica_->save_config([this, alive, id, reply, t](Status s) {
        if (!alive.expired()) finish_operator(s, id, reply, s.is_ok() ? t : "");
      });
    }
    case proto::OperatorRequest::kEnableSecondary:
      if (m == "primary") return done(Status::invalid_argument("mode is primary; demote first"));
      if (!secondary_) start_role();
      return secondary_->activate(req.enable_secondary().token(), true, done);
    case proto::OperatorRequest::kUpdatePrimary:
      if (m != "secondary" || !secondary_) return done(Status::invalid_argument("not a secondary"));
      return secondary_->activate(req.update_primary().token(), false, done);
    case proto::OperatorRequest::kPromote:
      if (m != "secondary") return done(Status::invalid_argument("not a secondary"));
      if (secondary_ && secondary_->catching_up()) {
        // An epoch must start from a prefix of the primary's history; right after a
        // merkle-sync the state mixes fetched (newer) values with older ones.
        return done(Status::unavailable(
            "catching up after merkle-sync: applied " +
            std::to_string(secondary_->applied().value) + " of " +
            std::to_string(replica_->config().catch_up_index()) +
            "; the state is not a prefix of the primary's history yet, promote later"));
      }
      return promote(id, std::move(reply));
    case proto::OperatorRequest::kDemote:
      if (m != "primary") return done(Status::invalid_argument("not a primary"));
      return demote(id, std::move(reply));
    case proto::OperatorRequest::kCreateUser: {
      proto::ClientRequest w;
      w.set_request_id(id);
      w.mutable_write()->set_path(std::string(kUsersPrefix) + req.create_user().username());
      w.mutable_write()->set_value(
          replication::to_hex(replication::sha256("pw|" + req.create_user().password())));
      return handle_client(std::move(w), std::nullopt, Origin{true, origin.hops},
                           [this, alive, id, reply](proto::ClientResponse r) {
                             if (alive.expired()) return;
                             Status s = r.error() == proto::OK
                                            ? Status()
                                            : Status(StatusCode::kUnavailable, r.error_message());
                             finish_operator(s, id, reply);
                           });
    }
    default:
      return done(Status::invalid_argument("no action"));
  }
}

void NodeImpl::enable_primary(uint64_t id, OperatorReply reply) {
  auto& c = replica_->config();
  uint64_t epoch = replication::next_epoch(std::max(c.highest_epoch_seen(), c.epoch()),
                                           config_.cluster_id.value);
  c.set_mode("primary");
  c.set_epoch(epoch);
  c.set_highest_epoch_seen(epoch);
  std::weak_ptr<bool> alive = alive_;
  replica_->store().set_epoch(Epoch(epoch), [this, alive, id, reply](Status s) {
    if (alive.expired()) return;
    if (!s.is_ok()) return finish_operator(s, id, reply);
    fork_after_inflight_applies();
    replica_->save_config([this, alive, id, reply](Status s2) {
      if (alive.expired()) return;
      if (s2.is_ok()) start_role();
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
  auto& c = replica_->config();
  // A promotion that fails to persist (disk full, fsync failure) leaves the node what its
  // storage says: the secondary it was, not a half-promoted node without a role.
  std::weak_ptr<bool> alive = alive_;
  reply = [this, alive, before = c, reply](proto::OperatorResponse r) {
    if (!alive.expired() && r.error() != proto::OK && mode() != "secondary") {
      replica_->config() = before;
      start_role();
      *r.mutable_status() = build_status();
    }
    reply(std::move(r));
  };
  uint64_t applied = secondary_ ? secondary_->applied().value : 0;
  uint64_t primary_last = secondary_ ? secondary_->primary_last_wal() : 0;
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
  secondary_.reset();
  c.clear_primary_nodes();
  c.clear_credential();
  c.clear_primary_epoch();
  c.clear_catch_up_index();
  enable_primary(id, std::move(reply));
}

void NodeImpl::demote(uint64_t id, OperatorReply reply) {
  auto& c = replica_->config();
  proto::ReplicationConfig before = c;
  c.set_mode("secondary");
  c.set_primary_epoch(c.epoch());  // until update-primary names the primary to follow
  c.clear_primary_nodes();
  c.clear_secondaries();
  c.clear_tokens();
  primary_.reset();
  std::weak_ptr<bool> alive = alive_;
  replica_->save_config([this, alive, id, reply, before](Status s) {
    if (alive.expired()) return;
    // Not persisted (disk full, fsync failure): stay the primary storage says this is, rather
    // than a node whose mode says secondary with no secondary role (update-primary would
    // refuse it for good).
    if (!s.is_ok()) replica_->config() = before;
    start_role();
    finish_operator(s, id, reply);
  });
}

}  // namespace replsim::cluster
