#include "engine/replication/replica.h"

namespace replsim::replication {

Replica::Replica(Env& env, std::unique_ptr<Store> store, LockGeneration generation)
    : env_(env),
      store_(std::move(store)),
      generation_(generation),
      alive_(std::make_shared<bool>(true)) {}

Replica::~Replica() { *alive_ = false; }

void Replica::open(Env& env, ReplicaOptions options, LockGeneration generation,
                   std::function<void(Result<std::unique_ptr<Replica>>)> done) {
  StoreOptions store_options;
  std::vector<std::string> local = options.local_prefixes;
  local.push_back("sys/");
  store_options.mounts = MountTable(local);
  store_options.wal = options.wal;
  store_options.auto_compact_log_bytes = 64 << 20;
  auto store = Store::open(env, store_options);
  if (!store.is_ok()) return done(store.status());
  std::unique_ptr<Replica> replica(new Replica(env, std::move(store.value()), generation));
  Replica* r = replica.get();
  if (auto cfg = r->store_->get(kConfigPath)) {
    if (!r->config_.ParseFromString(*cfg)) {
      return done(Status::corruption("replication config unreadable"));
    }
  } else {
    r->config_.set_mode("disabled");
  }
  Keyring keyring;
  bool fresh_keyring = false;
  if (auto kr = r->store_->get(kKeyringPath)) {
    auto parsed = Keyring::parse(*kr);
    if (!parsed.is_ok()) return done(parsed.status());
    keyring = std::move(parsed.value());
  } else {
    keyring = Keyring::generate(env.random());
    fresh_keyring = true;
  }
  r->barrier_ = std::make_unique<Barrier>(std::move(keyring), env.random());
  r->rebuild_merkle();
  // The generation first (fences older writers at the store level), then a fresh keyring.
  auto shared = std::make_shared<std::unique_ptr<Replica>>(std::move(replica));
  r->store_->advance_lock_generation(generation, [shared, fresh_keyring, done](Status s) {
    if (!s.is_ok()) return done(s);
    Replica* rr = shared->get();
    if (!fresh_keyring) return done(std::move(*shared));
    Transaction txn;
    txn.put(std::string(kKeyringPath), rr->barrier_->keyring().serialize());
    txn.replicate = false;
    rr->commit(std::move(txn), [shared, done](Result<CommitInfo> c) {
      if (!c.is_ok()) return done(c.status());
      done(std::move(*shared));
    });
  });
}

void Replica::rebuild_merkle() {
  merkle_.clear();
  const MountTable& mounts = store_->mounts();
  for (const auto& [path, value] : store_->contents()) {
    if (mounts.is_replicated(path)) merkle_.put(path, value);
  }
  counters_.index_rebuilds++;
}

void Replica::apply_to_merkle(const std::vector<Mutation>& mutations) {
  const MountTable& mounts = store_->mounts();
  for (const Mutation& m : mutations) {
    if (!mounts.is_replicated(m.path)) continue;
    if (m.deleted) {
      merkle_.erase(m.path);
    } else {
      merkle_.put(m.path, m.value);
    }
  }
}

void Replica::add_config(Transaction* txn) const {
  std::string bytes;
  config_.SerializeToString(&bytes);
  txn->put(std::string(kConfigPath), std::move(bytes));
}

void Replica::save_config(std::function<void(Status)> done) {
  Transaction txn;
  txn.replicate = false;
  add_config(&txn);
  commit(std::move(txn), [done](Result<CommitInfo> c) { done(c.is_ok() ? Status() : c.status()); });
}

void Replica::commit(Transaction txn, CommitCallback done) {
  txn.expected_generation = generation_;
  // Only the replicated mutations reach the index; copy them before the store takes txn.
  std::vector<Mutation> replicated;
  for (const Mutation& m : txn.mutations) {
    if (store_->mounts().is_replicated(m.path)) replicated.push_back(m);
  }
  std::weak_ptr<bool> alive = alive_;
  store_->commit(std::move(txn), [this, alive, replicated = std::move(replicated),
                                  done = std::move(done)](Result<CommitInfo> c) {
    if (alive.expired()) return;
    if (c.is_ok()) apply_to_merkle(replicated);
    done(std::move(c));
  });
}

void Replica::commit_replicated(WalEntry entry, CommitCallback done) {
  std::vector<Mutation> mutations;
  mutations.reserve(entry.changes.size());
  for (const KeyChange& k : entry.changes) {
    mutations.push_back({k.path, k.ciphertext, k.deleted});
  }
  std::weak_ptr<bool> alive = alive_;
  store_->commit_replicated(std::move(entry), generation_,
                            [this, alive, mutations = std::move(mutations),
                             done = std::move(done)](Result<CommitInfo> c) {
                              if (alive.expired()) return;
                              if (c.is_ok()) apply_to_merkle(mutations);
                              done(std::move(c));
                            });
}

void Replica::install_keyring(Keyring keyring, std::function<void(Status)> done) {
  Transaction txn;
  txn.replicate = false;
  txn.put(std::string(kKeyringPath), keyring.serialize());
  barrier_->install(std::move(keyring));
  commit(std::move(txn), [done](Result<CommitInfo> c) { done(c.is_ok() ? Status() : c.status()); });
}

std::map<std::string, std::string> Replica::replicated_plaintext() const {
  std::map<std::string, std::string> out;
  for (const auto& [path, value] : store_->contents()) {
    if (!store_->mounts().is_replicated(path)) continue;
    auto plain = barrier_->decrypt(path, value);
    out[path] = plain.is_ok() ? plain.value() : std::string("<undecryptable>");
  }
  return out;
}

std::map<std::string, std::string> Replica::local_raw() const {
  std::map<std::string, std::string> out;
  for (const auto& [path, value] : store_->contents()) {
    if (store_->mounts().is_local(path)) out[path] = value;
  }
  return out;
}

}  // namespace replsim::replication
