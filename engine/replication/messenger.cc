#include "engine/replication/messenger.h"

#include "engine/storage/barrier.h"

namespace replsim::replication {

std::string credential_proof(const std::string& secondary_id, const std::string& credential) {
  return sha256("cred|" + secondary_id + "|" + credential);
}

std::string wrap(Random& random, const std::string& wrap_key, std::string_view label,
                 std::string_view plaintext) {
  Keyring ring;
  ring.add_key(1, wrap_key);
  Barrier barrier(std::move(ring), random);
  return barrier.encrypt(label, plaintext);
}

Result<std::string> unwrap(Random& random, const std::string& wrap_key, std::string_view label,
                           std::string_view wrapped) {
  Keyring ring;
  ring.add_key(1, wrap_key);
  Barrier barrier(std::move(ring), random);
  return barrier.decrypt(label, wrapped);
}

void to_proto(const WalEntry& entry, int64_t commit_time_us, proto::WalEntryMsg* out) {
  out->set_index(entry.index.value);
  out->set_epoch(entry.epoch.value);
  out->set_commit_time_us(commit_time_us);
  for (const KeyChange& k : entry.changes) {
    auto* c = out->add_changes();
    c->set_path(k.path);
    c->set_ciphertext(k.ciphertext);
    c->set_deleted(k.deleted);
  }
}

WalEntry from_proto(const proto::WalEntryMsg& msg) {
  WalEntry e;
  e.index = WalIndex(msg.index());
  e.epoch = Epoch(msg.epoch());
  e.changes.reserve(msg.changes_size());
  for (const auto& c : msg.changes()) {
    e.changes.push_back({c.path(), c.ciphertext(), c.deleted()});
  }
  return e;
}

}  // namespace replsim::replication
