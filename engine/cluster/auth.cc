// Userpass auth: users are replicated data ("auth/userpass/users/<name>", the barrier-encrypted
// SHA-256 of the password); tokens are local (token_cache.h: the record is the SHA-256 of the
// token → expiry on this cluster's clock). The token itself is never stored, logged or
// replicated, so a token of another cluster is simply unknown here: "permission denied".
#include "engine/cluster/node_impl.h"
#include "engine/replication/credentials.h"

namespace replsim::cluster {

using replication::sha256;
using replication::to_hex;

namespace {
constexpr TimeUs kTokenSweepIntervalUs = 10 * kUsPerSec;
constexpr size_t kTokenSweepDeletesMax = 1000;  // per sweep transaction
}  // namespace

void NodeImpl::login(const proto::ClientRequest& req, Reply reply) {
  REPLSIM_ASSERT(active());
  REPLSIM_ASSERT(req.has_login());
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
  txn.put(TokenCache::record_path(token), TokenCache::record_value(expires));
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
  REPLSIM_ASSERT(replica_);
  const Store& store = replica_->store();
  return tokens_.check(
      token, env_.now_us(), [&store](const std::string& path) { return store.get(path); }, ttl_us);
}

void NodeImpl::sweep_tokens() {
  sweep_timer_ = env_.schedule(kTokenSweepIntervalUs, [this] { sweep_tokens(); });
  if (!replica_) return;
  Transaction txn;
  txn.replicate = false;
  TimeUs now = env_.now_us();
  replica_->store().scan(MountTable::kTokenPrefix, [&](const std::string& p, const std::string& v) {
    auto expires_us = TokenCache::parse_expiry(v);
    if (!expires_us || *expires_us <= now) txn.del(p);
    return txn.mutations.size() < kTokenSweepDeletesMax;
  });
  if (txn.mutations.empty()) return;
  REPLSIM_ASSERT(txn.mutations.size() <= kTokenSweepDeletesMax);
  replica_->commit(std::move(txn), [](Result<CommitInfo> c) { c.status().ignore(); });
}

}  // namespace replsim::cluster
