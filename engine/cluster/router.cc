// Request routing: standby → active forwarding, secondary → primary forwarding with the
// read-after-write hold, required index states, and the primary's write path (dedupe).
#include <algorithm>

#include "engine/cluster/node_impl.h"
#include "engine/replication/envelope.h"
#include "engine/replication/epoch.h"
#include "engine/storage/limits.h"

namespace replsim::cluster {

using replication::send_envelope;

bool NodeImpl::has_index_state(Position at) const {
  REPLSIM_ASSERT(active());
  if (secondary_) return secondary_->has_state(at);
  // Ancestry, never numeric order (docs/epochs.md).
  const auto& c = replica_->config();
  return replication::lineage_contains(c.epoch(), replica_->store().last_wal_index().value,
                                       c.ancestry(), at.epoch.value, at.index.value);
}

NodeId NodeImpl::active_target(uint32_t attempt) {
  NodeId holder = lock_.holder_hint();
  if (holder.value != 0 && holder != env_.self() && attempt % 4 != 3) return holder;
  std::vector<NodeId> others;
  for (NodeId n : config_.cluster_nodes) {
    if (n != env_.self()) others.push_back(n);
  }
  if (others.empty()) return NodeId();
  return others[attempt % others.size()];
}

NodeId NodeImpl::primary_target(uint32_t attempt) {
  if (!secondary_) return NodeId();  // no longer a secondary: the forward times out
  REPLSIM_ASSERT(replica_);
  const auto& nodes = replica_->config().primary_nodes();
  if (nodes.empty()) return NodeId();
  NodeId hint = secondary_->primary_hint();
  if (attempt == 0 && hint.value != 0) return hint;
  return NodeId(nodes[attempt % nodes.size()]);
}

void NodeImpl::sign_cross_cluster(proto::ForwardRequest* fwd) {
  REPLSIM_ASSERT(fwd != nullptr);
  fwd->set_origin_cluster(config_.cluster_id.value);
  if (!secondary_) return;
  fwd->set_secondary_id(secondary_->secondary_id());
  fwd->set_credential_proof(secondary_->proof());
}

Barrier* NodeImpl::wire_barrier() {
  if (replica_) return &replica_->barrier();
  auto keyring = replication::read_keyring_file(env_.fs());
  if (!keyring.is_ok()) return nullptr;
  if (!standby_barrier_ || !(standby_barrier_->keyring() == keyring.value())) {
    standby_barrier_ = std::make_unique<Barrier>(std::move(keyring.value()), env_.random());
  }
  return standby_barrier_.get();
}

// A standby: seal the value (values travel between nodes as ciphertext only), stamp a write
// with the cluster's lineage epoch, and forward to the active node.
void NodeImpl::forward_to_active(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                                 Origin origin, Reply reply) {
  REPLSIM_ASSERT(!active());
  if (origin.hops >= kForwardHopsMax) {
    return reply(error_response(req.request_id(), proto::UNAVAILABLE, "too many hops"));
  }
  if (req.has_write() && !sealed) {
    Barrier* barrier = wire_barrier();
    if (barrier == nullptr) {
      return reply(error_response(req.request_id(), proto::UNAVAILABLE, "no active node yet"));
    }
    proto::KeyChange k;
    k.set_path(req.write().path());
    k.set_ciphertext(barrier->encrypt(req.write().path(), req.write().value()));
    req.mutable_write()->clear_value();
    sealed = std::move(k);
  }
  proto::ForwardRequest fwd;
  fwd.set_hops(origin.hops + 1);
  fwd.set_origin_cluster(config_.cluster_id.value);
  if (req.has_write() || req.has_del()) {
    // Stamped here, where the request enters the engine: every resend keeps it. Without a
    // lineage (no active node wrote one yet) there is no epoch to stamp: an unstamped write
    // could commit in two epochs if a resend crosses a failover, so it is refused.
    uint64_t stamp = origin.write_epoch;
    if (stamp == 0) {
      auto lineage = replication::read_lineage_file(env_.fs());
      if (!lineage) {
        return reply(error_response(req.request_id(), proto::UNAVAILABLE,
                                    "no active node yet (cluster lineage unknown)"));
      }
      stamp = *lineage;
    }
    fwd.set_write_epoch(stamp);
  }
  *fwd.mutable_request() = std::move(req);
  if (sealed) *fwd.mutable_sealed() = std::move(*sealed);
  forward([this](uint32_t a) { return active_target(a); }, std::move(fwd), std::move(reply),
          nullptr);
}

void NodeImpl::handle_client(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                             Origin origin, Reply reply) {
  // Limits (engine/storage/limits.h): before anything is sealed, forwarded or written.
  const Status limit = req.has_write()
                           ? limits::validate_write(req.write().path(), req.write().value())
                       : req.has_del() ? limits::validate_path(req.del().path())
                                       : Status::ok();
  if (!limit.is_ok())
    return reply(error_response(req.request_id(), proto::INVALID_ARGUMENT, limit.message()));
  if (!check_active()) {
    return forward_to_active(std::move(req), std::move(sealed), origin, std::move(reply));
  }
  REPLSIM_ASSERT(replica_);
  if (req.op_case() == proto::ClientRequest::kLogin) return login(req, std::move(reply));
  int64_t ttl_us = 0;
  if (!origin.trusted) {
    Status s = check_token(req.token(), &ttl_us);
    if (!s.is_ok()) {
      return reply(error_response(req.request_id(), proto::PERMISSION_DENIED, "permission denied"));
    }
  }
  switch (req.op_case()) {
    case proto::ClientRequest::kWrite:
    case proto::ClientRequest::kDel:
      return handle_write(std::move(req), std::move(sealed), origin, std::move(reply));
    case proto::ClientRequest::kRead:
    case proto::ClientRequest::kList:
      return handle_read(std::move(req), origin, std::move(reply));
    case proto::ClientRequest::kTokenLookup: {
      proto::ClientResponse r;
      r.set_request_id(req.request_id());
      r.set_token_ttl_us(ttl_us);
      r.set_served_by_node(env_.self().value);
      r.set_served_by_cluster(config_.cluster_id.value);
      return reply(std::move(r));
    }
    default:
      return reply(error_response(req.request_id(), proto::INVALID_ARGUMENT, "no operation"));
  }
}

void NodeImpl::handle_write(proto::ClientRequest req, std::optional<proto::KeyChange> sealed,
                            Origin origin, Reply reply) {
  REPLSIM_ASSERT(active());
  REPLSIM_ASSERT(req.has_write() || req.has_del());
  const std::string& path = req.has_write() ? req.write().path() : req.del().path();
  if (path.empty() || path.rfind("sys/", 0) == 0) {
    return reply(error_response(req.request_id(), proto::INVALID_ARGUMENT,
                                "path '" + path + "' is reserved or empty"));
  }
  // A value sealed by another node (a standby reads the keyring from ha/keyring, which can
  // be stale, e.g. after a power loss, until the active node rewrites it) must open with this
  // node's keyring: storing it blindly would commit a value nobody can ever decrypt.
  if (sealed && !replica_->barrier().decrypt(path, sealed->ciphertext()).is_ok()) {
    return reply(error_response(req.request_id(), proto::UNAVAILABLE,
                                "forwarded value sealed with a key this cluster does not hold "
                                "(stale keyring on the forwarding node); retry"));
  }
  bool local = replica_->mounts().is_local(path);
  if (local || mode() != proto::MODE_SECONDARY) {
    return commit_write(req, std::move(sealed), origin, std::move(reply));
  }
  forward_write_to_primary(std::move(req), std::move(sealed), origin, std::move(reply));
}

// A secondary: seal the value here (ciphertext only on the wire), forward to the primary,
// stamped with the lineage epoch (kept from the standby that stamped it, if any): only the
// primary of that epoch may commit it, whatever failover happens before an answer.
void NodeImpl::forward_write_to_primary(proto::ClientRequest req,
                                        std::optional<proto::KeyChange> sealed, Origin origin,
                                        Reply reply) {
  REPLSIM_ASSERT(mode() == proto::MODE_SECONDARY);
  const std::string path = req.has_write() ? req.write().path() : req.del().path();
  proto::ForwardRequest fwd;
  fwd.set_hops(origin.hops + 1);
  fwd.set_write_epoch(origin.write_epoch != 0 ? origin.write_epoch
                                              : replication::forward_epoch(replica_->config()));
  sign_cross_cluster(&fwd);
  if (req.has_write()) {
    auto* k = fwd.mutable_sealed();
    k->set_path(path);
    k->set_ciphertext(sealed ? sealed->ciphertext()
                             : replica_->barrier().encrypt(path, req.write().value()));
    req.mutable_write()->clear_value();
  }
  req.clear_token();  // tokens are local: checked here, never sent to another cluster
  *fwd.mutable_request() = std::move(req);
  std::weak_ptr<bool> alive = alive_;
  auto on_primary = [this, alive, reply](proto::ClientResponse r) {
    if (!alive.expired()) on_primary_write_answer(std::move(r), reply);
  };
  forward([this](uint32_t a) { return primary_target(a); }, std::move(fwd), std::move(on_primary),
          nullptr);
}

// The primary's answer to a forwarded write: held until the write is applied here
// (read-after-write), or answered with a warning.
void NodeImpl::on_primary_write_answer(proto::ClientResponse r, Reply reply) {
  REPLSIM_ASSERT(reply != nullptr);
  r.set_forwarded(true);
  r.set_served_by_node(env_.self().value);
  if (r.error() == proto::PERMISSION_DENIED) {
    // The primary refused this cluster's forward (credential not current during
    // update-primary, or it is no longer a primary), not the client's token. That refusal
    // is not final for the write: a standby's resend may start another forward that the
    // primary accepts later, so the client is told the outcome is unknown.
    r.set_error(proto::UNAVAILABLE);
    r.set_error_message("the primary refused this secondary's forward: " + r.error_message());
  }
  if (r.error() != proto::OK) return reply(std::move(r));
  const Position at{Epoch(r.index_state().epoch()), WalIndex(r.index_state().wal_index())};
  if (!secondary_) {
    // Promoted (or no longer active) before the answer came: this node no longer follows
    // the primary, so only its own state tells whether a read here sees the write.
    if (!check_active() || !has_index_state(at)) {
      counters_.raw_warnings++;
      r.set_warning(
          "write forwarded to the primary is not in this node's state (it changed "
          "role before the write was applied here); a read here may not see it");
    }
    return reply(std::move(r));
  }
  counters_.raw_waits++;
  std::weak_ptr<bool> alive = alive_;
  secondary_->wait_for(at, config_.raw_wait_us,
                       [this, alive, r = std::move(r), reply](bool applied) mutable {
                         if (alive.expired()) return;
                         if (!applied) {
                           counters_.raw_warnings++;
                           r.set_warning(
                               "write forwarded to the primary was not yet applied on this "
                               "secondary; a read here may not see it");
                         }
                         reply(std::move(r));
                       });
}

// A retry of a write this primary committed: the first outcome, never a second commit.
bool NodeImpl::answer_from_dedupe(uint64_t id, Reply& reply) {
  REPLSIM_ASSERT(active());
  const Position* at = dedupe_.find(id);
  if (at == nullptr) return false;
  counters_.writes_deduplicated++;
  if (!at->known()) {
    reply(error_response(id, proto::UNAVAILABLE,
                         "this write was committed before a failover at a position "
                         "not recorded; its outcome is unknown"));
    return true;
  }
  proto::ClientResponse r;
  r.set_request_id(id);
  r.set_wal_index(at->index.value);
  r.mutable_index_state()->set_epoch(at->epoch.value);
  r.mutable_index_state()->set_wal_index(at->index.value);
  r.set_served_by_cluster(config_.cluster_id.value);
  r.set_served_by_node(env_.self().value);
  reply(std::move(r));
  return true;
}

void NodeImpl::commit_write(const proto::ClientRequest& req, std::optional<proto::KeyChange> sealed,
                            Origin origin, Reply reply) {
  REPLSIM_ASSERT(active());
  uint64_t id = req.request_id();
  const std::string& path = req.has_write() ? req.write().path() : req.del().path();
  const bool local = replica_->mounts().is_local(path);
  const bool forwarded = origin.hops > 0;
  const uint64_t epoch = replica_->config().epoch();
  if (!local && origin.write_epoch != 0 && origin.write_epoch != epoch) {
    // An engine resend that crossed a change of primary: the first send may have committed
    // in epoch write_epoch (on a branch this primary may or may not have), and this
    // primary's dedupe table cannot tell. Committing again could apply the write twice.
    counters_.forwards_refused_epoch_changed++;
    return reply(error_response(id, proto::UNAVAILABLE,
                                "the primary changed while this write was forwarded (epoch " +
                                    std::to_string(origin.write_epoch) + " -> " +
                                    std::to_string(epoch) + "); its outcome is unknown"));
  }
  if (answer_from_dedupe(id, reply)) return;
  auto inflight = inflight_writes_.find(id);
  if (inflight != inflight_writes_.end()) {
    counters_.writes_deduplicated++;
    inflight->second.push_back(std::move(reply));
    return;
  }
  Transaction txn;
  if (req.has_write()) {
    txn.put(path,
            sealed ? sealed->ciphertext() : replica_->barrier().encrypt(path, req.write().value()));
  } else {
    txn.del(path);
  }
  // Forwarded writes are the ones the engine itself retries: their request ids are recorded
  // in the same transaction, so a retry after a failover of this cluster's active node is
  // still recognised. Direct writes are deduplicated in memory only.
  bool persist = !local && forwarded;
  if (persist) {
    // The record's value becomes "<epoch>/<index>" of this write's own WAL entry.
    txn.put(WriteDedupe::record_path(id), "");
    txn.wal_position_path = WriteDedupe::record_path(id);
  }
  if (!local) {
    if (auto evicted = dedupe_.evict_record()) txn.del(WriteDedupe::record_path(*evicted));
  }
  inflight_writes_[id].push_back(std::move(reply));
  std::weak_ptr<bool> alive = alive_;
  replica_->commit(std::move(txn), [this, alive, id, local, persist](Result<CommitInfo> c) {
    if (!alive.expired()) on_write_committed(id, local, persist, std::move(c));
  });
}

void NodeImpl::on_write_committed(uint64_t id, bool local, bool persist, Result<CommitInfo> c) {
  auto it = inflight_writes_.find(id);
  if (it == inflight_writes_.end()) return;  // the node stepped down meanwhile
  REPLSIM_ASSERT(active());
  REPLSIM_ASSERT(!it->second.empty());
  std::vector<Reply> replies = std::move(it->second);
  inflight_writes_.erase(it);
  proto::ClientResponse r;
  r.set_request_id(id);
  r.set_served_by_cluster(config_.cluster_id.value);
  r.set_served_by_node(env_.self().value);
  if (!c.is_ok()) {
    r.set_error(c.status().code() == StatusCode::kFenced ? proto::FENCED : proto::INTERNAL);
    r.set_error_message(c.status().to_string());
  } else {
    uint64_t index = c->wal_index ? c->wal_index->value : replica_->store().last_wal_index().value;
    r.set_wal_index(index);
    r.mutable_index_state()->set_epoch(replica_->config().epoch());
    r.mutable_index_state()->set_wal_index(index);
    if (local) {
      counters_.local_writes_committed++;
    } else {
      counters_.writes_committed++;
      Epoch at_epoch = c->wal_index ? c->epoch : Epoch(replica_->config().epoch());
      dedupe_.record(id, Position{at_epoch, WalIndex(index)}, persist);
      if (c->wal_index && observer_) {
        observer_->on_wal_committed(env_.self(), c->epoch, *c->wal_index);
      }
      if (primary_) primary_->on_commit();
    }
  }
  for (auto& fn : replies) fn(r);
}

void NodeImpl::handle_read(proto::ClientRequest req, Origin origin, Reply reply) {
  REPLSIM_ASSERT(active());
  const Position required{Epoch(req.required_index_state().epoch()),
                          WalIndex(req.required_index_state().wal_index())};
  if (!req.has_required_index_state() || has_index_state(required)) {
    return serve_read(req, std::move(reply));
  }
  auto give_up = [this, req, origin, reply]() {
    if (req.stale_policy() == proto::FORWARD && mode() == proto::MODE_SECONDARY) {
      proto::ForwardRequest fwd;
      fwd.set_hops(origin.hops + 1);
      sign_cross_cluster(&fwd);
      *fwd.mutable_request() = req;
      fwd.mutable_request()->clear_token();
      return forward([this](uint32_t a) { return primary_target(a); }, std::move(fwd), reply,
                     nullptr);
    }
    reply(error_response(req.request_id(), proto::REQUIRED_INDEX_STATE_NOT_PRESENT,
                         "required index state not present"));
  };
  if (!secondary_) return give_up();
  std::weak_ptr<bool> alive = alive_;
  secondary_->wait_for(required, config_.required_state_wait_us,
                       [this, alive, req, reply, give_up](bool ok) {
                         if (alive.expired()) return;
                         if (ok && replica_) return serve_read(req, reply);
                         give_up();
                       });
}

void NodeImpl::serve_read(const proto::ClientRequest& req, Reply reply) {
  REPLSIM_ASSERT(replica_);
  REPLSIM_ASSERT(req.has_read() || req.has_list());
  proto::ClientResponse r;
  r.set_request_id(req.request_id());
  r.set_served_by_node(env_.self().value);
  r.set_served_by_cluster(config_.cluster_id.value);
  r.mutable_index_state()->set_epoch(replica_->config().epoch());
  r.mutable_index_state()->set_wal_index(secondary_ ? secondary_->applied().value
                                                    : replica_->store().last_wal_index().value);
  if (req.has_read()) {
    const std::string& path = req.read().path();
    if (path.rfind("sys/", 0) == 0) {
      return reply(error_response(req.request_id(), proto::INVALID_ARGUMENT, "reserved path"));
    }
    auto value = replica_->store().get(path);
    if (value) {
      auto plain = replica_->barrier().decrypt(path, *value);
      if (!plain.is_ok()) {
        return reply(error_response(req.request_id(), proto::INTERNAL, plain.status().to_string()));
      }
      r.set_found(true);
      r.set_value(std::move(plain.value()));
    }
  } else {
    for (auto& p : replica_->store().list(req.list().prefix())) {
      if (p.rfind("sys/", 0) != 0) r.add_keys(p);
    }
  }
  reply(std::move(r));
}

// ---- forwarding ----

void NodeImpl::forward(Forwarder::Target target, proto::ForwardRequest fwd, Reply reply,
                       OperatorReply op_reply) {
  REPLSIM_ASSERT_MSG((reply != nullptr) != (op_reply != nullptr), "one answer per forward");
  REPLSIM_ASSERT(fwd.has_request() == (reply != nullptr));
  const uint64_t request_id =
      fwd.has_request() ? fwd.request().request_id() : fwd.operator_request().request_id();
  auto timed_out = [reply, op_reply, request_id] {
    std::string msg = "no answer from the active/primary node within the forwarding bound";
    if (reply) reply(error_response(request_id, proto::UNAVAILABLE, msg));
    if (op_reply) {
      proto::OperatorResponse r;
      r.set_request_id(request_id);
      r.set_error(proto::UNAVAILABLE);
      r.set_error_message(msg);
      op_reply(std::move(r));
    }
  };
  auto answer = [this, reply, op_reply](const proto::ForwardResponse& resp) {
    if (reply) on_forward_answer(resp, reply);
    if (op_reply) op_reply(resp.operator_response());
  };
  forwarder_.forward(std::move(target), std::move(fwd), std::move(answer), std::move(timed_out));
}

// An answer to a forwarded client request: read values come back sealed.
void NodeImpl::on_forward_answer(const proto::ForwardResponse& resp, const Reply& reply) {
  REPLSIM_ASSERT(reply != nullptr);
  proto::ClientResponse r = resp.response();
  r.set_forwarded(true);
  if (resp.has_sealed()) {
    Barrier* barrier = wire_barrier();
    if (barrier == nullptr) {
      return reply(error_response(r.request_id(), proto::UNAVAILABLE, "no keyring"));
    }
    auto plain = barrier->decrypt(resp.sealed().path(), resp.sealed().ciphertext());
    if (!plain.is_ok()) {
      return reply(error_response(r.request_id(), proto::INTERNAL, plain.status().to_string()));
    }
    r.set_value(std::move(plain.value()));
  }
  reply(std::move(r));
}

void NodeImpl::on_forward_request(NodeId from, proto::ForwardRequest fwd) {
  uint64_t forward_id = fwd.forward_id();
  if (fwd.has_operator_request()) {
    return handle_operator(std::move(*fwd.mutable_operator_request()), Origin{false, fwd.hops()},
                           [this, from, forward_id](proto::OperatorResponse r) {
                             proto::NodeEnvelope out;
                             out.mutable_forward_response()->set_forward_id(forward_id);
                             *out.mutable_forward_response()->mutable_operator_response() = r;
                             send_envelope(env_, from, out);
                           });
  }
  if (!check_active()) {
    forwarder_.relay(from, std::move(fwd), [this](uint32_t a) { return active_target(a); });
    return;
  }
  REPLSIM_ASSERT(active());
  Origin origin{fwd.origin_cluster() != config_.cluster_id.value, fwd.hops(), fwd.write_epoch()};
  // A resend of a write this primary already accepted (committed or in flight) is answered
  // with that write's outcome even when its credential proof is no longer current (the
  // secondary was re-activated by update-primary between the two sends): refusing it would
  // tell the client "denied" for a write that happened. Nothing new is written for it.
  const uint64_t request_id = fwd.request().request_id();
  const bool accepted_before =
      primary_ && (fwd.request().has_write() || fwd.request().has_del()) &&
      (dedupe_.contains(request_id) || inflight_writes_.count(request_id) != 0);
  if (origin.trusted && !accepted_before &&
      !(primary_ && primary_->authenticated(fwd.secondary_id(), fwd.credential_proof()))) {
    proto::NodeEnvelope out;
    out.mutable_forward_response()->set_forward_id(forward_id);
    *out.mutable_forward_response()->mutable_response() =
        error_response(fwd.request().request_id(), proto::PERMISSION_DENIED,
                       "forward from an unauthenticated cluster or to a non-primary");
    return send_envelope(env_, from, out);
  }
  // A resend: the handling in flight answers it.
  if (!forwarder_.begin_handling(from, forward_id)) return;
  std::optional<proto::KeyChange> sealed;
  if (fwd.has_sealed()) sealed = fwd.sealed();
  std::string read_path = fwd.request().has_read() ? fwd.request().read().path() : "";
  handle_client(
      std::move(*fwd.mutable_request()), std::move(sealed), origin,
      [this, from, forward_id, read_path](proto::ClientResponse r) {
        forwarder_.end_handling(from, forward_id);
        proto::NodeEnvelope out;
        auto* resp = out.mutable_forward_response();
        resp->set_forward_id(forward_id);
        // Read values go back to the forwarding node as ciphertext only.
        if (r.found() && replica_) {
          resp->mutable_sealed()->set_path(read_path);
          resp->mutable_sealed()->set_ciphertext(replica_->barrier().encrypt(read_path, r.value()));
          r.clear_value();
        }
        *resp->mutable_response() = std::move(r);
        send_envelope(env_, from, out);
      });
}

}  // namespace replsim::cluster
