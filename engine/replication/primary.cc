#include "engine/replication/primary.h"

#include "engine/merkle/reconcile.h"
#include "engine/replication/credentials.h"
#include "engine/replication/envelope.h"
#include "engine/replication/wal_proto.h"
#include "proto/merkle.pb.h"

namespace replsim::replication {

Primary::Primary(Env& env, Replica& replica, ReplicationOptions options,
                 ReplicationCounters& counters)
    : env_(env), replica_(replica), options_(options), counters_(counters) {
  check_role();
  REPLSIM_ASSERT(options_.inflight_batches_max > 0);
  heartbeat_timer_ = env_.schedule(options_.heartbeat_interval_us, [this] { heartbeat(); });
}

Primary::~Primary() {
  env_.cancel(pump_timer_);
  env_.cancel(heartbeat_timer_);
}

// A Primary exists only while the configuration says primary, of an epoch (node_impl.h).
void Primary::check_role() const {
  REPLSIM_ASSERT_MSG(replica_.config().mode() == proto::MODE_PRIMARY,
                     "a Primary not in mode primary");
  REPLSIM_ASSERT(replica_.config().epoch() != 0);
}

Result<std::string> Primary::create_token(const std::string& id, TimeUs ttl_us,
                                          const std::vector<NodeId>& cluster_nodes) {
  check_role();
  if (id.empty()) return Status::invalid_argument("secondary id is empty");
  std::string secret;
  env_.random().fill_bytes(32, &secret);
  REPLSIM_ASSERT(secret.size() == 32);
  proto::ActivationTokenRecord* rec = replica_.config().add_tokens();
  rec->set_secondary_id(id);
  rec->set_secret_proof(sha256("proof|" + secret));
  rec->set_wrap_key(sha256("wrap|" + secret));
  rec->set_expires_us(env_.now_us() + (ttl_us > 0 ? ttl_us : options_.activation_token_ttl_us));
  proto::ActivationToken token;
  token.set_secondary_id(id);
  token.set_secret(secret);
  token.set_primary_cluster_id(0);
  for (NodeId n : cluster_nodes) token.add_primary_nodes(n.value);
  std::string bytes;
  token.SerializeToString(&bytes);
  return to_hex(bytes);
}

proto::SecondaryRecord* Primary::find_secondary(const std::string& id) {
  for (auto& s : *replica_.config().mutable_secondaries()) {
    if (s.secondary_id() == id) return &s;
  }
  return nullptr;
}

bool Primary::authenticated(const std::string& id, const std::string& proof) {
  auto cached = proofs_.find(id);
  if (cached != proofs_.end() && cached->second == proof) return true;
  proto::SecondaryRecord* rec = find_secondary(id);
  if (rec != nullptr && proof == credential_proof(id, rec->credential())) {
    proofs_[id] = proof;
    // Cached proofs are of activated secondaries only.
    REPLSIM_ASSERT(proofs_.size() <= static_cast<size_t>(replica_.config().secondaries_size()));
    return true;
  }
  counters_.unauthorized_refused++;
  return false;
}

bool Primary::handle(NodeId from, const proto::NodeEnvelope& e) {
  switch (e.body_case()) {
    case proto::NodeEnvelope::kActivationRequest:
      on_activation(from, e.activation_request());
      return true;
    case proto::NodeEnvelope::kStreamRequest:
      on_stream_request(from, e.stream_request());
      return true;
    case proto::NodeEnvelope::kWalAck:
      on_ack(e.wal_ack());
      return true;
    case proto::NodeEnvelope::kMerkleRound:
      on_merkle(from, e.merkle_round());
      return true;
    default:
      return false;
  }
}

void Primary::on_activation(NodeId from, const proto::ActivationRequest& req) {
  check_role();
  proto::NodeEnvelope out;
  auto* resp = out.mutable_activation_response();
  resp->set_session(req.session());
  auto& config = replica_.config();
  proto::ActivationTokenRecord* token = nullptr;
  for (auto& t : *config.mutable_tokens()) {
    if (t.secondary_id() == req.secondary_id() && t.secret_proof() == req.secret_proof()) {
      token = &t;
    }
  }
  // A retry of the activation that used this token (its answer was lost: same session, a
  // random number of the secondary's) gets the same answer again; the token stays
  // single-use for anyone else, even one that claims the same cluster id.
  proto::SecondaryRecord* existing = find_secondary(req.secondary_id());
  bool retry = token != nullptr && token->used() && existing != nullptr &&
               existing->cluster_id() == req.cluster_id() &&
               token->used_session() == req.session() && token->expires_us() >= env_.now_us();
  if (!retry && (token == nullptr || token->used() || token->expires_us() < env_.now_us())) {
    counters_.unauthorized_refused++;
    resp->set_error(proto::PERMISSION_DENIED);
    resp->set_error_message(token == nullptr ? "unknown activation token"
                            : token->used()  ? "activation token already used"
                                             : "activation token expired");
    send_envelope(env_, from, out);
    return;
  }
  std::string credential;
  if (retry) {
    credential = existing->credential();
  } else {
    token->set_used(true);
    token->set_used_session(req.session());
    env_.random().fill_bytes(32, &credential);
    proto::SecondaryRecord* rec = existing != nullptr ? existing : config.add_secondaries();
    rec->set_secondary_id(req.secondary_id());
    rec->set_credential(credential);
    rec->set_cluster_id(req.cluster_id());
    rec->set_last_acked_wal(0);
    proofs_.erase(req.secondary_id());
  }
  REPLSIM_ASSERT(token != nullptr);  // a valid token, or a retry of the one it activated
  REPLSIM_ASSERT(token->used());
  std::string label = "activation/" + req.secondary_id();
  resp->set_wrapped_keyring(
      wrap(env_.random(), token->wrap_key(), label, replica_.barrier().keyring().serialize()));
  resp->set_wrapped_credential(wrap(env_.random(), token->wrap_key(), label, credential));
  resp->set_epoch(config.epoch());
  *resp->mutable_ancestry() = config.ancestry();
  // Answer once the used token and the credential are durable (a retry then gets "used").
  std::weak_ptr<bool> alive = alive_;
  replica_.save_config([this, alive, from, out](Status s) {
    if (!alive.expired() && s.is_ok()) send_envelope(env_, from, out);
  });
}

void Primary::send_stream_error(NodeId to, uint64_t session, proto::StreamError error) {
  check_role();
  proto::NodeEnvelope out;
  auto* r = out.mutable_stream_response();
  r->set_session(session);
  r->set_error(error);
  r->set_epoch(replica_.config().epoch());
  *r->mutable_ancestry() = replica_.config().ancestry();
  r->set_primary_last_wal(replica_.store().last_wal_index().value);
  send_envelope(env_, to, out);
}

void Primary::on_stream_request(NodeId from, const proto::StreamRequest& req) {
  check_role();
  if (!authenticated(req.secondary_id(), req.credential_proof())) {
    return send_stream_error(from, req.session(), proto::STREAM_DENIED);
  }
  // Any other epoch, whatever its number (an ancestor, or a sibling branch the operator moved
  // this secondary off), reconciles into this one: the secondary, which knows its own
  // ancestry, refuses only a primary it has moved past (docs/epochs.md).
  uint64_t epoch = replica_.config().epoch();
  const WalBuffer& wal = replica_.store().wal();
  WalIndex from_index(req.from_index());
  bool too_old = req.epoch() != epoch || req.from_index() == 0 || from_index < wal.first_index() ||
                 from_index.value > wal.last_index().value + 1;
  if (!too_old && env_.buggify("replication.primary.spurious_too_old")) too_old = true;
  last_heartbeat_[req.secondary_id()] = env_.now_us();
  if (too_old) {
    counters_.too_old_answers++;
    sessions_.erase(req.secondary_id());
    return send_stream_error(from, req.session(), proto::STREAM_TOO_OLD);
  }
  Session& s = sessions_[req.secondary_id()];
  s = Session();
  s.session = req.session();
  s.node = from;
  s.next = from_index;
  s.last_heard_us = env_.now_us();
  s.streaming = true;
  // Contiguity: the session ships from an index the buffer still holds, or its next one.
  REPLSIM_ASSERT(s.next >= wal.first_index());
  REPLSIM_ASSERT(s.next.value <= wal.last_index().value + 1);
  // Streaming resumed: the guard pinned for this secondary's reconciliation is no longer
  // needed (holding it would keep the buffer past its bound).
  auto guard = guards_.find(req.secondary_id());
  if (guard != guards_.end()) {
    replica_.store().wal().release_guard(guard->second);
    guards_.erase(guard);
  }
  send_stream_error(from, req.session(), proto::STREAM_OK);
  pump(s, req.secondary_id());
}

void Primary::on_ack(const proto::WalAck& ack) {
  check_role();
  auto it = sessions_.find(ack.secondary_id());
  if (it == sessions_.end() || it->second.session != ack.session()) return;
  if (!authenticated(ack.secondary_id(), ack.credential_proof())) return;
  Session& s = it->second;
  REPLSIM_ASSERT(s.inflight_last.size() <= options_.inflight_batches_max);
  s.last_heard_us = env_.now_us();
  last_heartbeat_[ack.secondary_id()] = env_.now_us();
  while (!s.inflight_last.empty() && s.inflight_last.front() <= ack.applied_index()) {
    s.inflight_last.pop_front();
  }
  if (proto::SecondaryRecord* rec = find_secondary(ack.secondary_id())) {
    if (ack.applied_index() > rec->last_acked_wal()) rec->set_last_acked_wal(ack.applied_index());
  }
  // A secondary that fell behind what was shipped (lost batches) resumes at its position.
  if (ack.applied_index() + 1 < s.next.value && s.inflight_last.empty()) {
    s.next = WalIndex(ack.applied_index() + 1);
  }
  pump(s, ack.secondary_id());
}

void Primary::on_commit() {
  check_role();
  if (pump_timer_ != kNoTimer || sessions_.empty()) return;
  pump_timer_ = env_.schedule(options_.batch_window_us, [this] {
    pump_timer_ = kNoTimer;
    pump_all();
  });
}

void Primary::pump_all() {
  for (auto& [id, s] : sessions_) pump(s, id);
}

void Primary::pump(Session& s, const std::string& id) {
  check_role();
  if (!s.streaming) return;
  REPLSIM_ASSERT(s.session != 0);
  const WalBuffer& wal = replica_.store().wal();
  size_t inflight_max = options_.inflight_batches_max;
  if (env_.buggify("replication.primary.tiny_window")) inflight_max = 1;
  while (s.inflight_last.size() < inflight_max && s.next.value <= wal.last_index().value) {
    auto batch = wal.read_batch(s.next);
    if (!batch.is_ok()) {
      counters_.too_old_answers++;
      s.streaming = false;
      send_stream_error(s.node, s.session, proto::STREAM_TOO_OLD);
      return;
    }
    if (batch->entries.empty()) return;
    // Contiguity: each batch starts where the previous one of the session ended.
    REPLSIM_ASSERT(batch->entries.front().index == s.next);
    REPLSIM_ASSERT(batch->next.value == batch->entries.back().index.value + 1);
    proto::NodeEnvelope out;
    auto* b = out.mutable_wal_batch();
    b->set_session(s.session);
    b->set_epoch(replica_.config().epoch());
    b->set_primary_last_wal(wal.last_index().value);
    b->set_seq(++s.seq);
    for (const WalEntry& e : batch->entries) to_proto(e, env_.now_us(), b->add_entries());
    counters_.batches_sent++;
    counters_.entries_sent += batch->entries.size();
    s.inflight_last.push_back(batch->entries.back().index.value);
    s.next = batch->next;
    send_envelope(env_, s.node, out);
  }
  REPLSIM_ASSERT(s.inflight_last.size() <= options_.inflight_batches_max);
}

void Primary::heartbeat() {
  check_role();
  heartbeat_timer_ = env_.schedule(options_.heartbeat_interval_us, [this] { heartbeat(); });
  TimeUs now = env_.now_us();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = it->second;
    if (now - s.last_heard_us > options_.secondary_timeout_us) {
      it = sessions_.erase(it);  // the secondary reconnects when it hears nothing
      continue;
    }
    proto::NodeEnvelope out;
    auto* h = out.mutable_heartbeat();
    h->set_session(s.session);
    h->set_epoch(replica_.config().epoch());
    h->set_primary_last_wal(replica_.store().wal().last_index().value);
    h->set_primary_time_us(now);
    send_envelope(env_, s.node, out);
    // Unacked batches for a whole timeout: assume lost, resend from the oldest.
    ++it;
  }
  replica_.store().wal().expire_guards(now);
}

void Primary::on_merkle(NodeId from, const proto::MerkleRound& round) {
  check_role();
  proto::NodeEnvelope out;
  auto* reply = out.mutable_merkle_round();
  reply->set_session(round.session());
  reply->set_kind(round.kind() + 1);
  reply->set_primary_last_wal(replica_.store().last_wal_index().value);
  if (!authenticated(round.secondary_id(), round.credential_proof())) {
    reply->set_error(proto::STREAM_DENIED);
    send_envelope(env_, from, out);
    return;
  }
  merkle::MerkleIndex& index = replica_.merkle();
  std::string body;
  Status status;
  if (round.kind() == 1) {
    proto::MerkleDiffRequest req;
    req.ParseFromString(round.body());
    WalBuffer& wal = replica_.store().wal();
    WalIndex guard = wal.last_index();
    auto old = guards_.find(round.secondary_id());
    if (old != guards_.end()) wal.release_guard(old->second);
    auto pinned = wal.add_guard(WalIndex(guard.value + 1), env_.now_us());
    if (pinned.is_ok()) guards_[round.secondary_id()] = pinned.value();
    auto r = merkle::answer_diff(index, guard, req);
    if (r.is_ok())
      r->SerializeToString(&body);
    else
      status = r.status();
    counters_.merkle_diffs++;
  } else if (round.kind() == 3) {
    proto::MerkleBucketsRequest req;
    req.ParseFromString(round.body());
    auto r = merkle::answer_buckets(index, req);
    if (r.is_ok())
      r->SerializeToString(&body);
    else
      status = r.status();
  } else if (round.kind() == 5) {
    proto::MerkleSyncRequest req;
    req.ParseFromString(round.body());
    auto r = merkle::answer_sync(
        index, req, [this](std::string_view path) { return replica_.store().get(path); });
    if (r.is_ok()) {
      r->set_guard_index(replica_.store().wal().last_index().value);
      r->SerializeToString(&body);
    } else {
      status = r.status();
    }
  } else {
    return;
  }
  if (!status.is_ok()) reply->set_error(proto::STREAM_GAP);
  reply->set_body(std::move(body));
  send_envelope(env_, from, out);
}

void Primary::fill_status(proto::ReplicationStatus* status) const {
  check_role();
  REPLSIM_ASSERT(status != nullptr);
  uint64_t last = replica_.store().last_wal_index().value;
  for (const auto& rec : replica_.config().secondaries()) {
    auto* k = status->add_known_secondaries();
    k->set_node_id(rec.secondary_id());
    k->set_cluster_id(rec.cluster_id());
    bool connected = sessions_.count(rec.secondary_id()) != 0;
    k->set_connection_status(connected ? "connected" : "disconnected");
    auto hb = last_heartbeat_.find(rec.secondary_id());
    k->set_last_heartbeat_us(hb == last_heartbeat_.end() ? 0 : hb->second);
    k->set_last_acked_wal(rec.last_acked_wal());
    k->set_lag_entries(last > rec.last_acked_wal() ? last - rec.last_acked_wal() : 0);
  }
}

}  // namespace replsim::replication
