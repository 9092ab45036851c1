#include "engine/replication/replica.h"

#include <algorithm>

namespace replsim::replication {
namespace {

proto::KeyChange to_key_change(const std::string& path, const std::string& value, bool deleted) {
  proto::KeyChange k;
  k.set_path(path);
  if (!deleted) k.set_ciphertext(value);
  k.set_deleted(deleted);
  return k;
}

// What the ARIES index reads back from storage: retained WAL entries, or everything.
class StoreIndexSource : public aries::IndexSource {
 public:
  explicit StoreIndexSource(Store& store) : store_(store) {}

  Status for_each_entry_after(
      WalIndex after,
      const std::function<void(WalIndex, const std::vector<proto::KeyChange>&)>& fn) override {
    const WalBuffer& wal = store_.wal();
    if (after >= store_.last_wal_index()) return Status();
    if (wal.empty() || WalIndex(after.value + 1) < wal.first_index() ||
        wal.last_index() != store_.last_wal_index()) {
      return Status::too_old("storage no longer holds WAL entry " +
                             std::to_string(after.value + 1));
    }
    WalIndex previous = after;
    for (const WalEntry& e : wal.entries()) {
      if (e.index <= after) continue;
      // Contiguity: the roll-forward sees every entry after `after`, in order, once.
      REPLSIM_ASSERT(e.index.value == previous.value + 1);
      previous = e.index;
      std::vector<proto::KeyChange> changes;
      changes.reserve(e.changes.size());
      for (const KeyChange& k : e.changes) {
        changes.push_back(to_key_change(k.path, k.ciphertext, k.deleted));
      }
      fn(e.index, changes);
    }
    return Status();
  }

  Status scan(WalIndex* as_of,
              const std::function<void(std::string_view, std::string_view)>& fn) override {
    *as_of = store_.last_wal_index();
    for (const auto& [path, value] : store_.contents()) {
      if (store_.mounts().is_replicated(path)) fn(path, value);
    }
    return Status();
  }

 private:
  Store& store_;
};

}  // namespace

Result<Keyring> read_keyring_file(FileSystem& fs) {
  if (!fs.exists(kKeyringFile)) return Status::not_found("no keyring file yet");
  auto file = fs.open(kKeyringFile, false);
  if (!file.is_ok()) return file.status();
  std::string bytes;
  REPLSIM_RETURN_IF_ERROR((*file)->read(0, (*file)->size(), &bytes));
  return Keyring::parse(bytes);
}

void Replica::write_keyring_file() {
  REPLSIM_ASSERT(barrier_ != nullptr);
  auto file = env_.fs().open(kKeyringFile, true);
  if (!file.is_ok()) return;  // fenced or disk trouble: standbys keep the previous one
  std::string bytes = barrier_->keyring().serialize();
  uint64_t size = bytes.size();
  (*file)->write(0, std::move(bytes), [](Status s) { s.ignore(); });
  (*file)->truncate(size).ignore();
  // Durable, so standbys do not seal forwarded values with a keyring lost by a power loss.
  (*file)->sync([](Status s) { s.ignore(); });
}

std::optional<uint64_t> read_lineage_file(FileSystem& fs) {
  if (!fs.exists(kLineageFile)) return std::nullopt;
  auto file = fs.open(kLineageFile, false);
  if (!file.is_ok()) return std::nullopt;
  std::string bytes;
  if (!(*file)->read(0, (*file)->size(), &bytes).is_ok() || bytes.size() != 8) {
    return std::nullopt;
  }
  uint64_t epoch = 0;
  for (int i = 7; i >= 0; --i) epoch = (epoch << 8) | static_cast<uint8_t>(bytes[i]);
  return epoch;
}

uint64_t forward_epoch(const proto::ReplicationConfig& config) {
  if (config.mode() == proto::MODE_SECONDARY && config.primary_epoch() != 0)
    return config.primary_epoch();
  return config.epoch();
}

void Replica::write_lineage_file() {
  const uint64_t epoch = forward_epoch(config_);
  REPLSIM_ASSERT(config_.mode() != proto::MODE_UNKNOWN);
  if (lineage_written_ == epoch) return;
  auto file = env_.fs().open(kLineageFile, true);
  if (!file.is_ok()) return;  // fenced or disk trouble: standbys keep the previous one
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((epoch >> (8 * i)) & 0xff);
  (*file)->write(0, std::move(bytes), [](Status s) { s.ignore(); });
  (*file)->truncate(8).ignore();
  (*file)->sync([](Status s) { s.ignore(); });
  lineage_written_ = epoch;
}

Replica::Replica(Env& env, std::unique_ptr<Store> store, LockGeneration generation)
    : env_(env),
      store_(std::move(store)),
      generation_(generation),
      alive_(std::make_shared<bool>(true)) {}

Replica::~Replica() { *alive_ = false; }

void Replica::open(Env& env, ReplicaOptions options, LockGeneration generation,
                   std::function<void(Result<std::unique_ptr<Replica>>)> done) {
  REPLSIM_ASSERT(generation.value != 0);  // only a lock holder opens the cluster's storage
  REPLSIM_ASSERT(done != nullptr);
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
    r->config_.set_mode(proto::MODE_DISABLED);
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
  r->options_ = options;
  r->source_ = std::make_unique<StoreIndexSource>(*r->store_);
  const bool unindexed = r->store_->get(kIndexRebuildPath).has_value();
  Status index_status = r->open_index(unindexed);
  if (!index_status.is_ok()) return done(index_status);
  if (unindexed) r->watch_rebuild(++r->rebuild_seq_);
  // The generation first (fences older writers at the store level), then a fresh keyring.
  auto shared = std::make_shared<std::unique_ptr<Replica>>(std::move(replica));
  // These callbacks run inside the Store's own completions, where the Store (owned by the
  // Replica) must not be destroyed (Store contract). On failure the Replica is therefore not
  // dropped with the callback but destroyed from the loop (found by ASan: heap-use-after-free
  // in Store::after_batch when the keyring commit failed).
  auto fail = [&env, shared, done](Status s) {
    env.schedule(0, [doomed = std::make_shared<std::unique_ptr<Replica>>(std::move(*shared))] {});
    done(std::move(s));
  };
  r->store_->advance_lock_generation(generation, [shared, fresh_keyring, done, fail](Status s) {
    if (!s.is_ok()) return fail(s);
    Replica* rr = shared->get();
    rr->write_keyring_file();
    rr->write_lineage_file();
    if (!fresh_keyring) return done(std::move(*shared));
    Transaction txn;
    txn.put(std::string(kKeyringPath), rr->barrier_->keyring().serialize());
    txn.replicate = false;
    rr->commit(std::move(txn), [shared, done, fail](Result<CommitInfo> c) {
      if (!c.is_ok()) return fail(c.status());
      done(std::move(*shared));
    });
  });
}

Status Replica::open_index(bool force_rebuild) {
  aries::AriesOptions o;
  o.flush_interval_us = options_.merkle_flush_interval_us;
  o.flush_fraction = options_.merkle_flush_fraction;
  o.force_rebuild = force_rebuild;
  o.shape = options_.merkle_shape;
  o.page_frame_bytes = options_.merkle_page_frame_bytes;
  if (env_.buggify("replica.merkle_slow_flush")) o.flush_fraction = 0.0001;
  index_.reset();
  auto index = aries::AriesIndex::open(env_, o, *source_);
  if (!index.is_ok()) return index.status();
  index_ = std::move(index.value());
  REPLSIM_ASSERT(index_ != nullptr);
  if (index_->recovery_stats().rebuilt) counters_.index_rebuilds++;
  return Status();
}

void Replica::apply_to_merkle(std::optional<WalIndex> index,
                              const std::vector<Mutation>& mutations) {
  if (mutations.empty()) return;
  bool in_sequence = index && *index > index_->applied_index() && index_->health().is_ok();
  if (!in_sequence) {
    // No WAL index, or another lineage's: rebuild from storage (which has the commit).
    Status s = open_index(true);
    REPLSIM_ASSERT_MSG(s.is_ok(), "merkle index rebuild failed");
    return;
  }
  std::vector<proto::KeyChange> changes;
  changes.reserve(mutations.size());
  for (const Mutation& m : mutations) changes.push_back(to_key_change(m.path, m.value, m.deleted));
  index_->apply(*index, changes);
}

void Replica::add_config(Transaction* txn) {
  REPLSIM_ASSERT(txn != nullptr);
  REPLSIM_ASSERT_MSG(config_.mode() != proto::MODE_UNKNOWN, "persisting a config without a mode");
  REPLSIM_ASSERT(!txn->replicate);  // the config is local: never in a WAL entry
  write_lineage_file();
  std::string bytes;
  config_.SerializeToString(&bytes);
  txn->put(std::string(kConfigPath), std::move(bytes));
}

void Replica::save_config(std::function<void(Status)> done) {
  REPLSIM_ASSERT(done != nullptr);
  Transaction txn;
  txn.replicate = false;
  add_config(&txn);
  commit(std::move(txn), [done](Result<CommitInfo> c) { done(c.is_ok() ? Status() : c.status()); });
}

void Replica::commit(Transaction txn, CommitCallback done) {
  REPLSIM_ASSERT(done != nullptr);
  REPLSIM_ASSERT(generation_.value != 0);
  txn.expected_generation = generation_;
  // Only the replicated mutations reach the index; copy them before the store takes txn.
  std::vector<Mutation> replicated;
  for (const Mutation& m : txn.mutations) {
    if (store_->mounts().is_replicated(m.path)) replicated.push_back(m);
  }
  const bool unindexed = !txn.replicate && !replicated.empty();
  if (unindexed) txn.put(std::string(kIndexRebuildPath), "");
  std::weak_ptr<bool> alive = alive_;
  store_->commit(std::move(txn), [this, alive, unindexed, replicated = std::move(replicated),
                                  done = std::move(done)](Result<CommitInfo> c) {
    if (alive.expired()) return;
    if (c.is_ok()) apply_to_merkle(c->wal_index, replicated);
    if (c.is_ok() && unindexed) watch_rebuild(++rebuild_seq_);
    done(std::move(c));
  });
}

void Replica::watch_rebuild(uint64_t seq) {
  REPLSIM_ASSERT(seq != 0);
  REPLSIM_ASSERT(seq <= rebuild_seq_);
  std::weak_ptr<bool> alive = alive_;
  const TimeUs poll_us = std::max<TimeUs>(options_.merkle_flush_interval_us, 10 * kUsPerMs);
  env_.schedule(poll_us, [this, alive, seq] {
    if (alive.expired() || seq != rebuild_seq_) return;
    if (!index_->rebuild_durable()) return watch_rebuild(seq);
    Transaction txn;
    txn.replicate = false;
    txn.expected_generation = generation_;
    txn.del(std::string(kIndexRebuildPath));
    store_->commit(std::move(txn), [](Result<CommitInfo> c) { c.status().ignore(); });
  });
}

void Replica::commit_replicated(WalEntry entry, CommitCallback done) {
  REPLSIM_ASSERT(done != nullptr);
  REPLSIM_ASSERT(entry.index.value != 0);  // a primary's entry: indexes start at 1
  std::vector<Mutation> mutations;
  mutations.reserve(entry.changes.size());
  WalIndex index = entry.index;
  for (const KeyChange& k : entry.changes) {
    mutations.push_back({k.path, k.ciphertext, k.deleted});
  }
  std::weak_ptr<bool> alive = alive_;
  store_->commit_replicated(std::move(entry), generation_,
                            [this, alive, index, mutations = std::move(mutations),
                             done = std::move(done)](Result<CommitInfo> c) {
                              if (alive.expired()) return;
                              if (c.is_ok()) apply_to_merkle(index, mutations);
                              done(std::move(c));
                            });
}

void Replica::install_keyring(Keyring keyring, std::function<void(Status)> done) {
  REPLSIM_ASSERT(done != nullptr);
  Transaction txn;
  txn.replicate = false;
  txn.put(std::string(kKeyringPath), keyring.serialize());
  barrier_->install(std::move(keyring));
  write_keyring_file();
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
