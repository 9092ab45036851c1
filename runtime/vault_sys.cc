// sys/ routes: health, seal-status, init, leader, mounts, auth (see docs/runtime.md).
#include <cstdlib>

#include "runtime/vault_call.h"

namespace replsim::runtime {

namespace {

constexpr const char* kVersion = "1.13.0+replsim";

// The mount table of a cluster nobody configured: secret/ as KV v2, as `vault server -dev`.
Json default_mounts() {
  Json m = Json::object();
  m["secret/"] = {{"type", "kv"},
                  {"description", "key/value secret storage"},
                  {"uuid", "00000000-0000-0000-0000-5ec7e7000001"},
                  {"accessor", "kv_5ec7e701"},
                  {"local", false},
                  {"seal_wrap", false},
                  {"external_entropy_access", false},
                  {"options", {{"version", "2"}}},
                  {"config", {{"default_lease_ttl", 0}, {"max_lease_ttl", 0}}}};
  return m;
}

int query_code(const VaultRequest& r, const char* key, int fallback) {
  auto it = r.query.find(key);
  if (it == r.query.end()) return fallback;
  const int v = std::atoi(it->second.c_str());
  return v >= 100 && v <= 599 ? v : fallback;
}

bool query_true(const VaultRequest& r, const char* key) {
  auto it = r.query.find(key);
  return it != r.query.end() && (it->second.empty() || it->second == "true" || it->second == "1");
}

std::string cluster_name(const cluster::Node& node) {
  return "replsim-cluster-" + std::to_string(node.cluster_id().value);
}

}  // namespace

void VaultApi::read_mounts(CallPtr c, Freshness f, std::function<void(Json)> k) {
  get(c, std::string(kMountsPath), f, [c, k](std::optional<std::string> v) {
    if (!v) return k(default_mounts());
    auto table = parse_json_object(*v);
    if (!table.is_ok()) return c->answer(vault_error(500, {"mount table unreadable"}));
    k(std::move(table.value()));
  });
}

void VaultApi::sys_health(CallPtr c) {
  if (c->req.method != "GET" && c->req.method != "HEAD") {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  auto answer = [this, c](bool initialized) {
    const bool standby = !node_.is_active();
    const proto::ReplicationStatus s = node_.status();
    Json j = {{"initialized", initialized},
              {"sealed", !initialized},
              {"standby", standby},
              {"performance_standby", false},
              {"replication_performance_mode", s.mode().empty() ? "disabled" : s.mode()},
              {"replication_dr_mode", "disabled"},
              {"server_time_utc", wall_now_us() / 1000000},
              {"version", kVersion},
              {"cluster_name", cluster_name(node_)},
              {"cluster_id", std::to_string(node_.cluster_id().value)}};
    int code = query_code(c->req, "activecode", 200);
    if (!initialized) {
      code = query_code(c->req, "uninitcode", 501);
    } else if (standby && !query_true(c->req, "standbyok")) {
      code = query_code(c->req, "standbycode", 429);
    }
    VaultResponse r = vault_json(code, j);
    if (c->req.method == "HEAD") r.body.clear();
    c->answer(std::move(r));
  };
  // A standby cannot read the cluster's init record (its reads go to the active node, which
  // does not take the standby's word for the client); with a dev root token the cluster is
  // initialized by whichever node is active.
  if (initialized_ || !node_.is_active()) {
    return answer(initialized_ || !options_.dev_root_token.empty());
  }
  get(c, std::string(kInitPath), Freshness::kLocal, [this, answer](std::optional<std::string> v) {
    if (v) initialized_ = true;
    answer(v.has_value());
  });
}

void VaultApi::sys_seal_status(CallPtr c) {
  auto answer = [this, c](bool initialized) {
    c->answer(vault_json(200, {{"type", "shamir"},
                               {"initialized", initialized},
                               {"sealed", !initialized},
                               {"t", 1},
                               {"n", 1},
                               {"progress", 0},
                               {"nonce", ""},
                               {"version", kVersion},
                               {"build_date", ""},
                               {"migration", false},
                               {"recovery_seal", false},
                               {"storage_type", "replsim"},
                               {"cluster_name", cluster_name(node_)},
                               {"cluster_id", std::to_string(node_.cluster_id().value)}}));
  };
  // A standby cannot read the cluster's init record (its reads go to the active node, which
  // does not take the standby's word for the client); with a dev root token the cluster is
  // initialized by whichever node is active.
  if (initialized_ || !node_.is_active()) {
    return answer(initialized_ || !options_.dev_root_token.empty());
  }
  get(c, std::string(kInitPath), Freshness::kLocal, [this, answer](std::optional<std::string> v) {
    if (v) initialized_ = true;
    answer(v.has_value());
  });
}

void VaultApi::sys_init(CallPtr c) {
  const std::string& m = c->req.method;
  if (m != "GET" && m != "PUT" && m != "POST") {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  for (const char* key : {"secret_shares", "secret_threshold", "recovery_shares",
                          "recovery_threshold", "stored_shares"}) {
    auto v = json_opt_int(c->body, key);
    if (!v.is_ok()) return c->answer(vault_error(400, {v.status().message()}));
  }
  lock(c, "init", [this, c] {
    get(c, std::string(kInitPath), Freshness::kLocal, [this, c](std::optional<std::string> v) {
      if (v) initialized_ = true;
      if (c->req.method == "GET")
        return c->answer(vault_json(200, {{"initialized", v.has_value()}}));
      if (v) return c->answer(vault_error(400, {"Vault is already initialized"}));
      Json root = {{"policies", {"root"}},
                   {"display_name", "root"},
                   {"path", "auth/token/root"},
                   {"expire_us", 0},
                   {"ttl_s", 0},
                   {"renewable", false},
                   {"orphan", true}};
      mint_token(c, std::move(root), [this, c](std::string token, Json) {
        Json init = {{"initialized_us", wall_now_us()}};
        put(c, std::string(kInitPath), init.dump(), [this, c, token] {
          initialized_ = true;
          c->answer(vault_json(
              200,
              {{"keys", Json::array()}, {"keys_base64", Json::array()}, {"root_token", token}}));
        });
      });
    });
  });
}

void VaultApi::ensure_dev_init(std::function<void(bool)> done) {
  if (options_.dev_root_token.empty()) return done(true);
  if (!node_.is_active()) return done(false);
  auto c = std::make_shared<Call>();
  c->api = this;
  c->alive = alive_;
  c->respond = [done](VaultResponse r) { done(r.status < 300); };
  reseal_local_records(c, [c] { c->answer(vault_no_content()); });
}

void VaultApi::reseal_local_records(CallPtr c, std::function<void()> k) {
  Json init = {{"initialized_us", wall_now_us()}, {"dev", !options_.dev_root_token.empty()}};
  if (options_.dev_root_token.empty()) {
    return put(c, std::string(kInitPath), init.dump(), [this, k] {
      initialized_ = true;
      k();
    });
  }
  Json root = {{"policies", {"root"}},
               {"display_name", "root"},
               {"path", "auth/token/root"},
               {"expire_us", 0},
               {"ttl_s", 0},
               {"renewable", false},
               {"orphan", true},
               {"accessor", sha256_hex("accessor|" + options_.dev_root_token).substr(0, 24)},
               {"creation_time_us", wall_now_us()}};
  put(c, token_storage_path(options_.dev_root_token), root.dump(), [this, c, init, k] {
    put(c, std::string(kInitPath), init.dump(), [this, k] {
      initialized_ = true;
      k();
    });
  });
}

void VaultApi::sys_leader(CallPtr c) {
  const bool active = node_.is_active();
  c->answer(vault_json(200, {{"ha_enabled", true},
                             {"is_self", active},
                             {"active_time", "0001-01-01T00:00:00Z"},
                             {"leader_address", active ? options_.api_addr : ""},
                             {"leader_cluster_address", ""},
                             {"performance_standby", false},
                             {"performance_standby_last_remote_wal", 0},
                             {"raft_committed_index", 0},
                             {"raft_applied_index", 0}}));
}

namespace {

// A mount path as Vault normalizes it ("kv" → "kv/"); "" when not allowed.
std::string mount_path(std::string p) {
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty()) return "";
  if (p.back() != '/') p += '/';
  if (p.find("..") != std::string::npos || p.find("//") != std::string::npos) return "";
  for (unsigned char ch : p) {
    if (ch < 0x20 || ch >= 0x7f) return "";  // printable ASCII only
  }
  return p;
}

Result<Json> new_mount_entry(const Json& body) {
  auto type = json_opt_string(body, "type");
  if (!type.is_ok()) return type.status();
  auto description = json_opt_string(body, "description");
  if (!description.is_ok()) return description.status();
  auto options = json_opt_object(body, "options");
  if (!options.is_ok()) return options.status();
  auto local = json_opt_bool(body, "local");
  if (!local.is_ok()) return local.status();
  if (local.value().value_or(false)) {
    return Status::invalid_argument("local mounts are not supported by replsim");
  }
  std::string version = "1";
  if (options.value()) {
    auto it = options.value()->find("version");
    if (it != options.value()->end()) {
      if (it->is_string())
        version = it->get<std::string>();
      else if (it->is_number_integer())
        version = std::to_string(it->get<int64_t>());
      else
        return Status::invalid_argument("field 'options.version': expected \"1\" or \"2\"");
    }
  }
  const std::string t = type.value().value_or("");
  if (t == "kv-v2") version = "2";
  if (t != "kv" && t != "kv-v2" && t != "generic") {
    return Status::invalid_argument("plugin not found in the catalog: " + t +
                                    " (replsim serves kv mounts only)");
  }
  if (version != "1" && version != "2") {
    return Status::invalid_argument("options.version must be 1 or 2");
  }
  return Json{{"type", "kv"},
              {"description", description.value().value_or("")},
              {"uuid", random_uuid()},
              {"accessor", "kv_" + random_hex(4)},
              {"local", false},
              {"seal_wrap", false},
              {"external_entropy_access", false},
              {"options", {{"version", version}}},
              {"config", {{"default_lease_ttl", 0}, {"max_lease_ttl", 0}}}};
}

}  // namespace

void VaultApi::sys_mounts(CallPtr c, const std::string& rest) {
  if (!require_root(c)) return;
  const std::string& m = c->req.method;
  if (rest.empty()) {
    if (m != "GET") return c->answer(vault_error(405, {"unsupported operation"}));
    return read_mounts(c, Freshness::kClient, [c](Json mounts) {
      mounts["sys/"] = {{"type", "system"},
                        {"description", "system endpoints"},
                        {"local", false},
                        {"seal_wrap", false},
                        {"options", nullptr}};
      Json j = mounts;
      j["data"] = mounts;
      c->answer(vault_json(200, j));
    });
  }
  std::string path = rest.substr(1);
  bool tune = false;
  if (path.size() > 5 && path.compare(path.size() - 5, 5, "/tune") == 0) {
    tune = true;
    path.resize(path.size() - 5);
  }
  path = mount_path(path);
  if (path.empty()) return c->answer(vault_error(400, {"invalid mount path"}));
  if (m == "GET") {
    return read_mounts(c, Freshness::kClient, [c, path, tune](Json mounts) {
      if (!mounts.contains(path)) return c->answer(vault_error(400, {"no mount at " + path}));
      Json e = mounts[path];
      if (tune)
        e = {{"default_lease_ttl", 2764800},
             {"max_lease_ttl", 2764800},
             {"force_no_cache", false},
             {"options", e["options"]},
             {"description", e["description"]}};
      c->answer(vault_json(200, {{"data", e}}));
    });
  }
  if (tune || (m != "POST" && m != "PUT" && m != "DELETE")) {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  Json entry;
  if (m != "DELETE") {
    auto e = new_mount_entry(c->body);
    if (!e.is_ok()) return c->answer(vault_error(400, {e.status().message()}));
    entry = std::move(e.value());
    for (const char* reserved : {"sys/", "auth/", "cubbyhole/", "identity/", "local/", "vault/"}) {
      if (path.rfind(reserved, 0) == 0) {
        return c->answer(vault_error(400, {"cannot mount under reserved path " + path}));
      }
    }
  }
  lock(c, std::string(kMountsPath), [this, c, path, entry] {
    read_mounts(c, Freshness::kForWrite, [this, c, path, entry](Json mounts) {
      if (c->req.method == "DELETE") {
        if (!mounts.contains(path)) return c->answer(vault_no_content());
        mounts.erase(path);
      } else {
        for (auto& [existing, e] : mounts.items()) {
          if (existing.rfind(path, 0) == 0 || path.rfind(existing, 0) == 0) {
            return c->answer(vault_error(400, {"path is already in use at " + existing}));
          }
        }
        mounts[path] = entry;
      }
      put(c, std::string(kMountsPath), mounts.dump(), [c] { c->answer(vault_no_content()); });
    });
  });
}

void VaultApi::sys_auth(CallPtr c, const std::string& rest) {
  if (!require_root(c)) return;
  const std::string& m = c->req.method;
  if (rest.empty() && m == "GET") {
    Json table = {{"token/",
                   {{"type", "token"},
                    {"description", "token based credentials"},
                    {"accessor", "auth_token_00000001"},
                    {"local", false}}},
                  {"userpass/",
                   {{"type", "userpass"},
                    {"description", ""},
                    {"accessor", "auth_userpass_00000001"},
                    {"local", false}}}};
    Json j = table;
    j["data"] = table;
    return c->answer(vault_json(200, j));
  }
  if (rest == "/userpass" && (m == "POST" || m == "PUT")) {
    auto type = json_opt_string(c->body, "type");
    if (!type.is_ok()) return c->answer(vault_error(400, {type.status().message()}));
    if (type.value().value_or("") != "userpass") {
      return c->answer(vault_error(400, {"replsim serves userpass at auth/userpass/ only"}));
    }
    return c->answer(vault_no_content());  // always enabled
  }
  c->answer(vault_error(400, {"replsim serves the token and userpass auth methods only"}));
}

}  // namespace replsim::runtime
