// runtime/vault_api.h — Vault's HTTP API (v1) on top of one replsim node.
//
// The engine (engine/cluster) stores, replicates and forwards opaque key/values; this layer
// is the Vault server its clients see: the mount table, KV v1 and v2, userpass, tokens and
// their policies, sys/ routes and the replication routes. It reaches the engine only through
// Node's public API: submit_trusted() for data (it authenticates every client itself) and an
// ApiClient for operator actions. Routes, shapes and differences from Vault: docs/runtime.md.
//
// Storage layout (engine paths; "local/" is never replicated, everything else is):
//   vault/mounts                 the mount table (JSON), replicated config
//   vault/users/<name>           userpass users: PBKDF2-SHA256 hash + salt + policies
//   vault/policies/<name>        ACL policies (vault_policy.cc)
//   m/<mount uuid>/...           a mount's own namespace (its storage view): KV v1 values at
//                                m/<u>/v/<path>, KV v2 documents at m/<u>/d/<path>, config
//   local/vault/init             this cluster's init record
//   local/vault/tokens/<sha256>  tokens (local to their cluster, as Vault's)
// A request path is always appended to one mount's prefix, so no request can name another
// mount's, the users' or the tokens' storage.
//
// Threading: single-threaded, on the io_context that runs the node. Every callback checks a
// liveness flag, so destroying the VaultApi with requests in flight is safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/cluster/client.h"
#include "engine/cluster/node.h"
#include "runtime/vault_json.h"

namespace replsim::runtime {

struct VaultRequest {
  std::string method;  // GET PUT POST DELETE LIST HEAD (GET ?list=true arrives as LIST)
  std::string path;    // after "/v1/", percent-decoded, e.g. "secret/data/app/db"
  std::map<std::string, std::string> query;
  std::string body;
  std::string token;         // X-Vault-Token, else Authorization: Bearer
  std::string index;         // X-Vault-Index ("" = none)
  std::string inconsistent;  // X-Vault-Inconsistent
};

struct VaultResponse {
  int status = 200;
  std::string body;   // JSON text; empty for 204
  std::string index;  // X-Vault-Index to answer ("" = none)
};

struct VaultOptions {
  std::string dev_root_token;  // non-empty: initialize at start with this root token
  std::string api_addr;        // this node's HTTP address for sys/leader ("http://h:p")
  TimeUs engine_timeout_us = 10 * kUsPerSec;
  TimeUs operator_timeout_us = 30 * kUsPerSec;
  int64_t token_ttl_s_default = 768 * 3600;  // Vault's default max lease TTL (32 days)
  uint32_t pbkdf2_iterations = 100000;       // userpass password hashing
};

class VaultApi {
 public:
  using Respond = std::function<void(VaultResponse)>;

  // `node` and `client` outlive the VaultApi; `node_id` is where `client` sends operator
  // actions (the local node).
  VaultApi(cluster::Node& node, cluster::ApiClient& client, NodeId node_id, VaultOptions options);
  ~VaultApi();

  // Answers one request; `respond` runs exactly once (possibly before this returns) unless
  // the VaultApi is destroyed first.
  void handle(VaultRequest request, Respond respond);

  // Deletes expired (and unreadable) token records: checks at most `records_max` of them,
  // resuming after the last one checked by the previous sweep (wrapping around), so every
  // record is visited in turn at a bounded cost per sweep. `done(deleted)` when finished;
  // does nothing (done(0)) while the node is not active.
  void sweep_tokens(size_t records_max, std::function<void(size_t deleted)> done);

  // With a dev root token: writes the init record and the root token once the node is active.
  // `done(true)` once written; `done(false)` when it should be retried later.
  void ensure_dev_init(std::function<void(bool)> done);

  struct Call;
  using CallPtr = std::shared_ptr<Call>;

 private:
  // ---- engine access (vault_api.cc) ----
  enum class Freshness { kClient, kForWrite, kLocal };
  using GetDone = std::function<void(std::optional<std::string>)>;
  void get(CallPtr c, const std::string& path, Freshness f, GetDone k);
  void put(CallPtr c, const std::string& path, std::string value, std::function<void()> k);
  void del(CallPtr c, const std::string& path, std::function<void()> k);
  void list(CallPtr c, const std::string& prefix, std::function<void(std::vector<std::string>)> k);
  void submit(CallPtr c, proto::ClientRequest r, bool data,
              std::function<void(const proto::ClientResponse&)> k);
  void operate(CallPtr c, proto::OperatorRequest op,
               std::function<void(const proto::OperatorResponse&)> k);
  // Runs `k` once no other call holds `key`; held until `c` finishes (read-modify-writes of
  // one document on this node are serialized).
  void lock(CallPtr c, const std::string& key, std::function<void()> k);
  void unlock(const std::string& key);

  // ---- routing and auth (vault_api.cc) ----
  void dispatch(CallPtr c);
  void authenticate(CallPtr c, std::function<void()> k);
  void check_initialized(CallPtr c, std::function<void()> k);
  bool require_root(CallPtr c);

  // ---- policies (vault_policy.cc) ----
  // Runs `k` when the token may do the request's method on its path (KV routes).
  void authorize(CallPtr c, std::function<void()> k);
  void sys_policy(CallPtr c, const std::string& rest, bool acl_form);

  // ---- sys (vault_sys.cc) ----
  void sys_health(CallPtr c);
  void sys_seal_status(CallPtr c);
  void sys_init(CallPtr c);
  void sys_leader(CallPtr c);
  void sys_mounts(CallPtr c, const std::string& rest);
  void sys_auth(CallPtr c, const std::string& rest);
  void read_mounts(CallPtr c, Freshness f, std::function<void(Json)> k);
  // Writes the init record (and the dev root token) under the cluster's current keyring.
  void reseal_local_records(CallPtr c, std::function<void()> k);

  // ---- auth (vault_auth.cc) ----
  void userpass(CallPtr c, const std::string& rest);
  void userpass_login(CallPtr c, const std::string& user);
  void userpass_user(CallPtr c, const std::string& user);
  void token_route(CallPtr c, const std::string& rest);
  // Stores a new token (`token`, or a random "hvs." one when empty) with `record`.
  void mint_token(CallPtr c, Json record, std::function<void(std::string token, Json record)> k,
                  std::string token = "");
  void token_renew(CallPtr c);

  // ---- kv (vault_kv.cc) ----
  void kv(CallPtr c, const std::string& mount, const Json& entry, const std::string& rest);
  void kv1(CallPtr c, const std::string& prefix, const std::string& rest);
  void kv2(CallPtr c, const std::string& prefix, const std::string& rest);
  void kv2_write(CallPtr c, const std::string& prefix, const std::string& path);
  void kv2_versions(CallPtr c, const std::string& prefix, const std::string& path,
                    const std::string& action);
  void kv2_metadata(CallPtr c, const std::string& prefix, const std::string& path);
  void kv2_config(CallPtr c, const std::string& prefix);
  void list_one_level(CallPtr c, const std::string& prefix, const std::string& folder);

  // ---- replication (vault_replication.cc) ----
  void replication(CallPtr c, const std::string& rest);

  cluster::Node& node_;
  cluster::ApiClient& client_;
  NodeId node_id_;
  VaultOptions options_;
  bool initialized_ = false;  // cached once seen true (init is never undone)
  std::string sweep_after_;   // sweep_tokens resumes after this record path
  std::map<std::string, std::vector<std::function<void()>>> locks_;
  std::shared_ptr<bool> alive_;
};

// The answer helpers every route file uses.
VaultResponse vault_error(int status, const std::vector<std::string>& errors);
VaultResponse vault_json(int status, const Json& body);
VaultResponse vault_no_content();

}  // namespace replsim::runtime
