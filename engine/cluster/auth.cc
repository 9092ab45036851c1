// Userpass auth: users are replicated data ("auth/userpass/users/<name>", the barrier-encrypted
// SHA-256 of the password); tokens are local ("sys/token/<SHA-256 of the token>" → expiry on
// this cluster's clock). The token itself is never stored, logged or replicated, so a token of
// another cluster is simply unknown here: "permission denied".
#include "engine/cluster/node_impl.h"
#include "engine/replication/messenger.h"

namespace replsim::cluster {

using replication::sha256;
using replication::to_hex;

namespace {
std::string token_path(const std::string& token) {
  return std::string(MountTable::kTokenPrefix) + to_hex(sha256("token|" + token));
}
}  // namespace

void NodeImpl::login(const proto::ClientRequest& req, Reply reply) {
  const auto& op = req.login();
  std::string path = std::string(kUsersPrefix) + op.username();
  auto stored = replica_->store().get(path);
  bool ok = false;
  if (stored) {
    auto plain = replica_->barrier().decrypt(path, *stored);
    ok = plain.is_ok() && plain.value() == to_hex(sha256("pw|" + op.password()));
  }
  if (!ok) {
    return reply(error_response(req.request_id(), proto::PERMISSION_DENIED, "permission denied"));
  }
  std::string raw;
  env_.random().fill_bytes(16, &raw);
  std::string token = "s." + to_hex(raw);
  TimeUs expires = env_.now_us() + config_.token_ttl_us;
  Transaction txn;
  txn.replicate = false;
  txn.put(token_path(token), std::to_string(expires));
  uint64_t id = req.request_id();
  TimeUs ttl = config_.token_ttl_us;
  std::weak_ptr<bool> alive = alive_;
  replica_->commit(std::move(txn), [this, alive, id, token, ttl, reply](Result<CommitInfo> c) {
    if (alive.expired()) return;
    if (!c.is_ok()) return reply(error_response(id, proto::INTERNAL, c.status().to_string()));
    counters_.local_writes_committed++;
    proto::ClientResponse r;
    r.set_request_id(id);
    r.set_token(token);
    r.set_token_ttl_us(ttl);
    r.set_served_by_node(env_.self().value);
    r.set_served_by_cluster(config_.cluster_id.value);
    reply(std::move(r));
  });
}

Status NodeImpl::check_token(const std::string& token, int64_t* ttl_us) {
  if (token.empty()) return Status::permission_denied("missing token");
  // Token → storage path (a SHA-256), memoized; bounded, cleared when full.
  auto cached = token_paths_.find(token);
  if (cached == token_paths_.end()) {
    if (token_paths_.size() >= kTokenPathCacheMax) token_paths_.clear();
    cached = token_paths_.emplace(token, token_path(token)).first;
  }
  auto stored = replica_->store().get(cached->second);
  if (!stored) {
    counters_.foreign_tokens_refused++;
    return Status::permission_denied("unknown token");
  }
  TimeUs expires = std::stoll(*stored);
  if (expires <= env_.now_us()) return Status::permission_denied("token expired");
  *ttl_us = expires - env_.now_us();
  return Status();
}

void NodeImpl::sweep_tokens() {
  sweep_timer_ = env_.schedule(10 * kUsPerSec, [this] { sweep_tokens(); });
  if (!replica_) return;
  Transaction txn;
  txn.replicate = false;
  TimeUs now = env_.now_us();
  replica_->store().scan(MountTable::kTokenPrefix, [&](const std::string& p, const std::string& v) {
    if (std::stoll(v) <= now) txn.del(p);
    return txn.mutations.size() < 1000;
  });
  if (txn.mutations.empty()) return;
  replica_->commit(std::move(txn), [](Result<CommitInfo> c) { c.status().ignore(); });
}

}  // namespace replsim::cluster
