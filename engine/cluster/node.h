// engine/cluster/node.h — one replsim node: the unit the simulator (or runtime/) runs.
//
// Architecture (docs/design.md §1; every message is a serialized proto, through Env only):
// - A node belongs to one cluster. The cluster's nodes share one FileSystem (the cluster
//   storage: in simulation one SimDisk). The HA lock is a lease record in that storage
//   ("ha/lock": holder, generation, renewal counter). The active node renews it; a standby
//   that sees the record unchanged for lock_lease_us of its OWN clock takes it with
//   generation + 1 and runs recovery (Store open, then ARIES for the merkle index).
// - Fencing: the active node's storage (store, WAL, merkle page file and log) writes through
//   a FileSystem wrapper that re-reads the lock record before every write / append /
//   truncate / rename / remove and refuses with kFenced when the generation is not its own,
//   so a paused or partitioned former active can never write after losing the lock.
// - Standbys forward every client/operator request to the active node (values sealed with the
//   cluster keyring, read from "ha/keyring"; answers' values come back sealed). The active
//   node of a secondary forwards replicated writes to the primary's active node, token
//   stripped. Forwarded requests keep the client's request_id; the primary applies each
//   write once (dedupe table, persisted for forwarded writes in the write's transaction).
//   A forwarded write is stamped, where it enters the engine, with the epoch of the lineage
//   the cluster follows (ForwardRequest.write_epoch; standbys read it from "ha/lineage"),
//   and only the primary of that epoch commits it: a resend that reaches a newly promoted
//   primary is refused with UNAVAILABLE (outcome unknown) instead of being applied again,
//   since the first send may have committed on the old primary. A forward unanswered after
//   forward_timeout_us fails with UNAVAILABLE; it is resent every forward_retry_us.
// - An active node whose store failed (fsync error) or whose merkle index reports corruption
//   gives the lock up (step-down); the next holder reopens storage and recovers the index.
// - Replication (engine/replication): the primary ships WAL batches to every activated
//   secondary; secondaries apply them, reconcile through merkle-diff/merkle-sync when behind
//   the buffer or after a promotion, and report status with Vault's field names.
// - Clients are nodes too: they send proto::Envelope (proto/api.proto) to any node.
//
// Lifecycle: construct on a process start (also after a crash: a new Node over the same
// storage), call start(); destroy on crash. The Env drops every pending callback of a
// crashed process, so destruction needs no cleanup protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/env.h"
#include "engine/types.h"
#include "proto/api.pb.h"

namespace replsim {
class Barrier;
class Store;
}  // namespace replsim

namespace replsim::cluster {

struct NodeConfig {
  ClusterId cluster_id;
  std::vector<NodeId> cluster_nodes;  // every node of this cluster, self included

  // HA lock (own clock). A standby takes the lock after it saw no renewal for lock_lease_us.
  TimeUs lock_renew_interval_us = 500 * kUsPerMs;
  TimeUs lock_lease_us = 2 * kUsPerSec;

  // Forwarding: a forwarded request without an answer after forward_timeout_us fails with
  // UNAVAILABLE; it is resent (same request_id) every forward_retry_us until then.
  TimeUs forward_timeout_us = 5 * kUsPerSec;
  TimeUs forward_retry_us = 500 * kUsPerMs;

  // Read-after-write: hold a forwarded write's answer until the index is applied locally or
  // this much of the secondary's own clock passed (then answer with a warning).
  TimeUs raw_wait_us = 2 * kUsPerSec;
  // Reads with a required index state wait at most this long.
  TimeUs required_state_wait_us = 1 * kUsPerSec;

  // Auth: token TTL on the cluster's clock; tokens are local (never replicated).
  TimeUs token_ttl_us = 3600 * kUsPerSec;
  std::vector<std::string> local_prefixes = {"local/"};  // plus sys/ (always local)

  // Replication (primary side).
  size_t wal_buffer_entries_max = 16384;
  size_t batch_entries_max = 63;
  size_t batch_bytes_max = 128 * 1024;
  TimeUs batch_window_us = 5 * kUsPerMs;  // max wait to fill a batch
  size_t inflight_batches_max = 32;       // flow control per secondary (> RTT / window)
  TimeUs heartbeat_interval_us = 250 * kUsPerMs;
  TimeUs secondary_timeout_us = 2 * kUsPerSec;  // no heartbeat → reconnect
  TimeUs reconnect_backoff_min_us = 100 * kUsPerMs;
  TimeUs reconnect_backoff_max_us = 2 * kUsPerSec;
  TimeUs guard_ttl_us = 30 * kUsPerSec;  // pinned resume index while reconciling
  TimeUs activation_token_ttl_us = 30 * 60 * kUsPerSec;

  // Merkle tree shape (every cluster of a replication set must use the same) and page frame.
  // The page file is dense (bucket b at b * frame bytes), so 8+8 bits make a 256 MiB file;
  // small simulations use fewer subpage bits.
  uint32_t merkle_root_bits = 8;
  uint32_t merkle_sub_bits = 8;
  uint32_t merkle_page_frame_bytes = 4096;
  // Merkle page flush: fraction of dirty pages per interval.
  TimeUs merkle_flush_interval_us = 200 * kUsPerMs;
  double merkle_flush_fraction = 0.02;

  // Group commit / storage.
  TimeUs commit_batch_window_us = 0;
};

// Monotonic counters (since this Node object started).
struct NodeCounters {
  uint64_t writes_committed = 0;        // replicated writes committed (primary)
  uint64_t local_writes_committed = 0;  // tokens, local paths
  uint64_t requests_forwarded = 0;      // requests this node sent to another node
  uint64_t writes_deduplicated = 0;     // retries answered from the dedupe table
  // Forwarded writes refused because their write_epoch is not this primary's (outcome
  // unknown: a resend after a failover must not commit them a second time).
  uint64_t forwards_refused_epoch_changed = 0;
  uint64_t raw_waits = 0;     // forwarded writes held for read-after-write
  uint64_t raw_warnings = 0;  // ... answered with a warning
  uint64_t batches_sent = 0;
  uint64_t entries_sent = 0;
  uint64_t batches_applied = 0;
  uint64_t entries_applied = 0;
  uint64_t duplicate_batches_ignored = 0;
  uint64_t stale_epoch_refused = 0;    // streams / batches from an older epoch
  uint64_t merkle_diffs = 0;           // reconciliations started
  uint64_t merkle_syncs = 0;           // merkle-sync phases finished
  uint64_t keys_synced = 0;            // keys fetched by merkle-sync
  uint64_t too_old_answers = 0;        // primary: stream requests answered "too old"
  uint64_t fenced_writes_refused = 0;  // storage writes refused for a stale generation
  uint64_t lock_acquisitions = 0;
  uint64_t step_downs = 0;               // gave the lock up: failed store or index
  uint64_t index_rebuilds = 0;           // merkle index rebuilt from storage at recovery
  uint64_t writes_lost_on_failover = 0;  // promoted secondary: primary entries it never had
  uint64_t foreign_tokens_refused = 0;
  uint64_t unauthorized_streams_refused = 0;  // no / bad activation credentials
};

// Callbacks for the harness (checkers, lag figures). All optional; called synchronously from
// the node's event handlers, so they must not call back into the node.
struct NodeObserver {
  virtual ~NodeObserver() = default;
  // Primary: a replicated write committed durably at `index` (epoch of this primary).
  virtual void on_wal_committed(NodeId node, Epoch epoch, WalIndex index) {}
  // Secondary: primary entry (epoch, index) applied durably to local storage.
  virtual void on_wal_applied(NodeId node, Epoch epoch, WalIndex index) {}
  // Secondary: merkle-sync finished; the replicated state now reflects the primary (epoch) at
  // least up to `guard` and streaming resumes at guard + 1. Between on_state("merkle-sync")
  // and this call the secondary's replicated state is a mix of older and newer values (it
  // is not a prefix of the primary's history until streaming catches up past the keys
  // fetched); checkers of prefix consistency should treat that window as reconciling.
  virtual void on_reconciled(NodeId node, Epoch epoch, WalIndex guard) {}
  // Any replication state change ("merkle-diff", "stream-wals", ...).
  virtual void on_state(NodeId node, const std::string& state) {}
  // This node became active (lock acquired, recovery done).
  virtual void on_active(NodeId node, LockGeneration generation) {}
};

class NodeImpl;

class Node {
 public:
  // `env` must outlive the node. env.fs() is the cluster's shared storage.
  Node(Env& env, NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Installs the receiver and starts the HA lock loop.
  void start();
  void set_observer(NodeObserver* observer);

  // In-process requests from this node's own API front end (runtime/'s Vault layer), which
  // has authenticated and authorized the client itself: routed as a client request without
  // the engine's token check. REQUIRES: request_id != 0 (unique, as ApiClient's); the node
  // has started. `done` runs once, possibly before this returns (node_api_ext.cc).
  void submit_trusted(proto::ClientRequest request,
                      std::function<void(const proto::ClientResponse&)> done);

  // ---- observation (harness, checkers, tests) ----
  NodeId id() const;
  ClusterId cluster_id() const;
  bool is_active() const;                   // holds the lock and finished recovery
  LockGeneration lock_generation() const;   // 0 while standby
  proto::ReplicationStatus status() const;  // local view (a standby reports what it knows)
  const NodeCounters& counters() const;
  // Current sizes of the active node's buffers and queues (empty on a standby), for the
  // harness's bounds checker: "wal_buffer_entries", "wal_guards", "dedupe_entries",
  // "forwards_pending", "inflight_writes", secondary "waiters", and primary
  // "inflight_batches/<secondary id>" (unacknowledged batches per secondary).
  std::map<std::string, uint64_t> queue_sizes() const;
  // Replicated data as stored (active node only, else nullopt): path → ciphertext, so a
  // merkle root can be rebuilt from storage independently of the index.
  std::optional<std::map<std::string, std::string>> replicated_raw() const;
  // Replicated data (active node only, else nullopt): path → plaintext value, decrypted.
  std::optional<std::map<std::string, std::string>> replicated_snapshot() const;
  // Local data (tokens, local paths) as raw stored paths → ciphertext (active only).
  std::optional<std::map<std::string, std::string>> local_snapshot() const;
  std::string merkle_root_hex() const;  // "" while standby
  // The active node's store (its index maps path → value as stored: replicated values are
  // ciphertext, local ones raw; its mounts tell which is which) and the barrier that opens
  // replicated values; null while standby. Read-only, for an observer that decrypts only the
  // values that changed since its previous snapshot: replicated_snapshot() is, for each
  // replicated path, barrier()->decrypt(path, value) or "<undecryptable>" when that fails.
  const Store* store() const;
  const Barrier* barrier() const;
  Epoch epoch() const;
  WalIndex last_wal() const;         // own WAL head
  WalIndex last_remote_wal() const;  // secondary: applied primary index

 private:
  std::unique_ptr<NodeImpl> impl_;
};

}  // namespace replsim::cluster
