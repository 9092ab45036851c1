#include "engine/replication/wal_proto.h"

namespace replsim::replication {

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
