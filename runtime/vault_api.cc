// Vault API core: the per-request call, engine access, routing, authentication.
#include "runtime/vault_api.h"

#include "runtime/vault_call.h"

namespace replsim::runtime {

VaultResponse vault_error(int status, const std::vector<std::string>& errors) {
  Json j;
  j["errors"] = errors;
  return {status, json_text(j), ""};
}

VaultResponse vault_json(int status, const Json& body) { return {status, json_text(body), ""}; }

VaultResponse vault_no_content() { return {204, "", ""}; }

VaultApi::VaultApi(cluster::Node& node, cluster::ApiClient& client, NodeId node_id,
                   VaultOptions options)
    : node_(node),
      client_(client),
      node_id_(node_id),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {}

VaultApi::~VaultApi() { alive_.reset(); }

namespace {

VaultResponse engine_error(proto::ErrorCode code, const std::string& message) {
  switch (code) {
    case proto::PERMISSION_DENIED:
      return vault_error(403, {"permission denied"});
    case proto::NOT_FOUND:
      return vault_error(404, {});
    case proto::INVALID_ARGUMENT:
    case proto::NOT_REPLICATING:
      return vault_error(400, {message});
    case proto::REQUIRED_INDEX_STATE_NOT_PRESENT:
      return vault_error(412, {"required index state not present"});
    case proto::UNAVAILABLE:
    case proto::TIMEOUT:
    case proto::FENCED:
      return vault_error(503, {message.empty() ? "unavailable" : message});
    default:
      return vault_error(500, {message.empty() ? "internal error" : message});
  }
}

bool is_local_path(const std::string& path) { return path.rfind("local/", 0) == 0; }

// Runs one step of a request: a JSON document of an unexpected shape (nlohmann throws) is a
// 500 for that request, never the end of the process.
template <typename F>
void guarded(const VaultApi::CallPtr& c, F&& step) {
  try {
    step();
  } catch (const nlohmann::json::exception& e) {
    c->answer(vault_error(500, {std::string("internal error: ") + e.what()}));
  }
}

}  // namespace

// ---- engine access ----

void VaultApi::submit(CallPtr c, proto::ClientRequest r, bool data,
                      std::function<void(const proto::ClientResponse&)> k) {
  r.set_request_id(client_.next_request_id());
  std::weak_ptr<bool> alive = alive_;
  node_.submit_trusted(std::move(r), [alive, c, data, k](const proto::ClientResponse& resp) {
    if (alive.expired()) return;
    if (resp.error() != proto::OK)
      return c->answer(engine_error(resp.error(), resp.error_message()));
    if (data && resp.has_index_state()) c->note_index(resp.index_state());
    guarded(c, [&] { k(resp); });
  });
}

void VaultApi::get(CallPtr c, const std::string& path, Freshness f, GetDone k) {
  proto::ClientRequest r;
  r.mutable_read()->set_path(path);
  if (f == Freshness::kClient && c->required) {
    *r.mutable_required_index_state() = *c->required;
    r.set_stale_policy(c->forward_stale ? proto::FORWARD : proto::FAIL);
  } else if (f == Freshness::kForWrite) {
    // A read-modify-write on a secondary reads what the primary had when this secondary last
    // heard from it: wait for that position (bounded), else read on the primary.
    std::optional<proto::IndexState> want = c->required;
    const proto::ReplicationStatus s = node_.status();
    if (!want && s.mode() == "secondary" && s.lag_entries() > 0) {
      proto::IndexState w;
      w.set_epoch(s.epoch());
      w.set_wal_index(s.last_remote_wal() + s.lag_entries());
      want = w;
    }
    if (want) {
      *r.mutable_required_index_state() = *want;
      r.set_stale_policy(proto::FORWARD);
    }
  }
  if (f == Freshness::kLocal) {
    // A local record sealed under the keyring this cluster had before enable-secondary
    // replaced it no longer opens; it reads as kUnreadableRecord (not JSON: a token record
    // that does not parse is refused; an init record that exists means initialized).
    r.set_request_id(client_.next_request_id());
    std::weak_ptr<bool> alive = alive_;
    return node_.submit_trusted(std::move(r), [alive, c, k](const proto::ClientResponse& resp) {
      if (alive.expired()) return;
      if (resp.error() == proto::INTERNAL &&
          resp.error_message().find("barrier") != std::string::npos) {
        return guarded(c, [&] { k(std::string(kUnreadableRecord)); });
      }
      if (resp.error() != proto::OK) {
        return c->answer(engine_error(resp.error(), resp.error_message()));
      }
      guarded(c, [&] { k(resp.found() ? std::optional(resp.value()) : std::nullopt); });
    });
  }
  const bool data = !is_local_path(path);
  submit(c, std::move(r), data, [k](const proto::ClientResponse& resp) {
    if (!resp.found()) return k(std::nullopt);
    k(std::optional<std::string>(resp.value()));
  });
}

void VaultApi::put(CallPtr c, const std::string& path, std::string value, std::function<void()> k) {
  proto::ClientRequest r;
  r.mutable_write()->set_path(path);
  r.mutable_write()->set_value(std::move(value));
  submit(c, std::move(r), !is_local_path(path), [k](const proto::ClientResponse&) { k(); });
}

void VaultApi::del(CallPtr c, const std::string& path, std::function<void()> k) {
  proto::ClientRequest r;
  r.mutable_del()->set_path(path);
  submit(c, std::move(r), !is_local_path(path), [k](const proto::ClientResponse&) { k(); });
}

void VaultApi::list(CallPtr c, const std::string& prefix,
                    std::function<void(std::vector<std::string>)> k) {
  proto::ClientRequest r;
  r.mutable_list()->set_prefix(prefix);
  if (c->required) {
    *r.mutable_required_index_state() = *c->required;
    r.set_stale_policy(c->forward_stale ? proto::FORWARD : proto::FAIL);
  }
  submit(c, std::move(r), !is_local_path(prefix), [k](const proto::ClientResponse& resp) {
    k(std::vector<std::string>(resp.keys().begin(), resp.keys().end()));
  });
}

void VaultApi::operate(CallPtr c, proto::OperatorRequest op,
                       std::function<void(const proto::OperatorResponse&)> k) {
  std::weak_ptr<bool> alive = alive_;
  client_.send_operator(
      node_id_, std::move(op),
      [alive, c, k](const proto::OperatorResponse& r) {
        if (alive.expired()) return;
        if (r.error() != proto::OK) return c->answer(engine_error(r.error(), r.error_message()));
        guarded(c, [&] { k(r); });
      },
      options_.operator_timeout_us);
}

void VaultApi::lock(CallPtr c, const std::string& key, std::function<void()> k) {
  auto it = locks_.find(key);
  if (it == locks_.end()) {
    locks_.emplace(key, std::vector<std::function<void()>>{});
    c->held.push_back(key);
    return k();
  }
  it->second.push_back([c, key, k] {
    c->held.push_back(key);
    k();
  });
}

void VaultApi::unlock(const std::string& key) {
  auto it = locks_.find(key);
  if (it == locks_.end()) return;
  if (it->second.empty()) {
    locks_.erase(it);
    return;
  }
  std::function<void()> next = std::move(it->second.front());
  it->second.erase(it->second.begin());
  next();
}

// ---- routing ----

void VaultApi::handle(VaultRequest request, Respond respond) {
  auto c = std::make_shared<Call>();
  c->req = std::move(request);
  c->respond = std::move(respond);
  c->api = this;
  c->alive = alive_;
  if (c->req.method == "PUT" || c->req.method == "POST") {
    auto body = parse_json_object(c->req.body);
    if (!body.is_ok()) return c->answer(vault_error(400, {body.status().message()}));
    c->body = std::move(body.value());
  }
  if (!c->req.index.empty()) {
    c->required = parse_index_state(c->req.index);
    if (!c->required) {
      return c->answer(vault_error(400, {"X-Vault-Index: not a state this server issued"}));
    }
  }
  const std::string& inc = c->req.inconsistent;
  if (!inc.empty() && inc != "forward-active-node" && inc != "fail") {
    return c->answer(vault_error(400, {"X-Vault-Inconsistent: want forward-active-node or fail"}));
  }
  c->forward_stale = inc == "forward-active-node";
  guarded(c, [&] { dispatch(c); });
}

void VaultApi::dispatch(CallPtr c) {
  const std::string& p = c->req.path;
  if (p == "sys/health") return sys_health(c);
  if (p == "sys/seal-status") return sys_seal_status(c);
  if (p == "sys/init") return sys_init(c);
  if (p == "sys/leader") return sys_leader(c);
  if (c->req.method == "GET" &&
      (p == "sys/replication/status" || p == "sys/replication/performance/status")) {
    return replication(c, p.substr(std::string_view("sys/replication/").size()));
  }
  check_initialized(c, [this, c] {
    const std::string& p = c->req.path;
    constexpr std::string_view kLogin = "auth/userpass/login/";
    if (p.rfind(kLogin, 0) == 0) return userpass_login(c, p.substr(kLogin.size()));
    authenticate(c, [this, c] {
      const std::string& p = c->req.path;
      if (p == "sys/mounts" || p.rfind("sys/mounts/", 0) == 0) return sys_mounts(c, p.substr(10));
      if (p == "sys/auth" || p.rfind("sys/auth/", 0) == 0) return sys_auth(c, p.substr(8));
      if (p.rfind("sys/replication/", 0) == 0) return replication(c, p.substr(16));
      if (p == "sys/policy" || p.rfind("sys/policy/", 0) == 0) {
        return sys_policy(c, p.substr(10), false);
      }
      if (p == "sys/policies/acl" || p.rfind("sys/policies/acl/", 0) == 0) {
        return sys_policy(c, p.substr(16), true);
      }
      if (p.rfind("auth/userpass/", 0) == 0) return userpass(c, p.substr(14));
      if (p.rfind("auth/token/", 0) == 0) return token_route(c, p.substr(11));
      if (p.rfind("sys/", 0) == 0 || p.rfind("auth/", 0) == 0) {
        return c->answer(vault_error(404, {"unsupported path"}));
      }
      read_mounts(c, Freshness::kClient, [this, c](Json mounts) {
        const std::string& p = c->req.path;
        std::string best;
        for (auto& [mount, entry] : mounts.items()) {
          const std::string bare = mount.substr(0, mount.size() - 1);
          if ((p.rfind(mount, 0) == 0 || p == bare) && mount.size() > best.size()) best = mount;
        }
        if (best.empty()) {
          return c->answer(
              vault_error(404, {"no handler for route \"" + p + "\". route entry not found."}));
        }
        const std::string rest = p.size() > best.size() ? p.substr(best.size()) : "";
        const Json entry = mounts[best];
        authorize(c, [this, c, best, entry, rest] { kv(c, best, entry, rest); });
      });
    });
  });
}

void VaultApi::check_initialized(CallPtr c, std::function<void()> k) {
  if (initialized_) return k();
  get(c, std::string(kInitPath), Freshness::kLocal, [this, c, k](std::optional<std::string> v) {
    if (!v) return c->answer(vault_error(503, {"Vault is sealed"}));
    initialized_ = true;
    k();
  });
}

void VaultApi::authenticate(CallPtr c, std::function<void()> k) {
  if (c->req.token.empty()) return c->answer(vault_error(403, {"permission denied"}));
  c->token_id = c->req.token;
  const std::string path = token_storage_path(c->req.token);
  get(c, path, Freshness::kLocal, [this, c, path, k](std::optional<std::string> v) {
    auto record = v ? parse_json_object(*v) : Result<Json>(Status::not_found("token"));
    if (!record.is_ok()) return c->answer(vault_error(403, {"permission denied"}));
    const int64_t expire_us = record.value().value("expire_us", int64_t{0});
    if (expire_us != 0 && expire_us <= wall_now_us()) {
      return del(c, path, [c] { c->answer(vault_error(403, {"permission denied"})); });
    }
    c->token = std::move(record.value());
    for (const auto& p : c->token.value("policies", Json::array())) c->root |= p == "root";
    k();
  });
}

bool VaultApi::require_root(CallPtr c) {
  if (c->root) return true;
  c->answer(vault_error(403, {"permission denied"}));
  return false;
}

}  // namespace replsim::runtime
