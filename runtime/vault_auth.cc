// auth/ routes: userpass (users, login) and the token store (lookup, renew, revoke, create).
// Users are replicated config with PBKDF2-SHA256 hashes; tokens are local to their cluster
// and stored under their SHA-256 (see vault_api.h for the layout).
#include <algorithm>
#include <cctype>

#include "runtime/vault_call.h"

namespace replsim::runtime {

namespace {

Json auth_block(const std::string& token, const Json& record) {
  Json policies = record.value("policies", Json::array());
  Json token_policies = Json::array();
  for (const auto& p : policies) {
    if (p != "default") token_policies.push_back(p);
  }
  if (policies.size() != token_policies.size())
    token_policies.insert(token_policies.begin(), "default");
  const Json meta = record.value("meta", Json());
  return {{"client_token", token},
          {"accessor", record.value("accessor", "")},
          {"policies", policies},
          {"token_policies", policies},
          {"identity_policies", nullptr},
          {"metadata", meta.is_object() && !meta.empty() ? meta : Json()},
          {"lease_duration", record.value("ttl_s", int64_t{0})},
          {"renewable", record.value("renewable", false)},
          {"entity_id", ""},
          {"token_type", "service"},
          {"orphan", record.value("orphan", true)}};
}

Json envelope(Json data, Json auth) {
  return {{"request_id", random_uuid()}, {"lease_id", ""},         {"renewable", false},
          {"lease_duration", 0},         {"data", data},           {"wrap_info", nullptr},
          {"warnings", nullptr},         {"auth", std::move(auth)}};
}

Json lookup_data(const std::string& token, const Json& r) {
  const int64_t expire_us = r.value("expire_us", int64_t{0});
  const int64_t created_us = r.value("creation_time_us", int64_t{0});
  const int64_t ttl =
      expire_us == 0 ? 0 : std::max<int64_t>(0, (expire_us - wall_now_us()) / 1000000);
  const Json meta = r.value("meta", Json());
  return {{"accessor", r.value("accessor", "")},
          {"creation_time", created_us / 1000000},
          {"creation_ttl", r.value("ttl_s", int64_t{0})},
          {"display_name", r.value("display_name", "token")},
          {"entity_id", ""},
          {"expire_time", expire_us == 0 ? Json() : Json(rfc3339(expire_us))},
          {"explicit_max_ttl", 0},
          {"id", token},
          {"issue_time", rfc3339(created_us)},
          {"meta", meta.is_object() && !meta.empty() ? meta : Json()},
          {"num_uses", 0},
          {"orphan", r.value("orphan", true)},
          {"path", r.value("path", "")},
          {"policies", r.value("policies", Json::array())},
          {"renewable", r.value("renewable", false)},
          {"ttl", ttl},
          {"type", "service"}};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

}  // namespace

void VaultApi::mint_token(CallPtr c, Json record, std::function<void(std::string, Json)> k,
                          std::string token) {
  if (token.empty()) token = "hvs." + random_hex(24);
  record["accessor"] = random_hex(12);
  record["creation_time_us"] = wall_now_us();
  const std::string text = record.dump();
  put(c, token_storage_path(token), text, [k, token, record] { k(token, record); });
}

void VaultApi::userpass(CallPtr c, const std::string& rest) {
  const std::string& m = c->req.method;
  if (rest == "users" || rest == "users/") {
    if (m != "LIST") return c->answer(vault_error(405, {"unsupported operation"}));
    if (!require_root(c)) return;
    return list(c, std::string(kUsersPrefix), [c](std::vector<std::string> keys) {
      std::vector<std::string> names = one_level(keys, kUsersPrefix);
      if (names.empty()) return c->answer(vault_error(404, {}));
      c->answer(vault_json(200, envelope({{"keys", names}}, nullptr)));
    });
  }
  if (rest.rfind("users/", 0) == 0) {
    std::string user = rest.substr(6);
    if (user.size() > 9 && user.compare(user.size() - 9, 9, "/password") == 0) {
      user.resize(user.size() - 9);  // users/<u>/password: a write with only the password
    }
    return userpass_user(c, lower(user));
  }
  c->answer(vault_error(404, {"unsupported path"}));
}

void VaultApi::userpass_user(CallPtr c, const std::string& user) {
  if (!require_root(c)) return;
  if (user.empty() || user.find('/') != std::string::npos) {
    return c->answer(vault_error(400, {"invalid username"}));
  }
  const std::string path = std::string(kUsersPrefix) + user;
  const std::string& m = c->req.method;
  if (m == "GET") {
    return get(c, path, Freshness::kClient, [c](std::optional<std::string> v) {
      auto rec = v ? parse_json_object(*v) : Result<Json>(Status::not_found(""));
      if (!rec.is_ok()) return c->answer(vault_error(404, {}));
      const Json& r = rec.value();
      const Json policies = r.value("policies", Json::array());
      const int64_t ttl = r.value("token_ttl_s", int64_t{0});
      const int64_t max_ttl = r.value("token_max_ttl_s", int64_t{0});
      c->answer(vault_json(200, envelope({{"policies", policies},
                                          {"token_policies", policies},
                                          {"ttl", ttl},
                                          {"token_ttl", ttl},
                                          {"max_ttl", max_ttl},
                                          {"token_max_ttl", max_ttl},
                                          {"token_type", "default"},
                                          {"bound_cidrs", Json::array()}},
                                         nullptr)));
    });
  }
  if (m == "DELETE") return del(c, path, [c] { c->answer(vault_no_content()); });
  if (m != "POST" && m != "PUT") return c->answer(vault_error(405, {"unsupported operation"}));
  auto password = json_opt_string(c->body, "password");
  auto policies = json_opt_strings(c->body, "token_policies");
  auto old_policies = json_opt_strings(c->body, "policies");
  auto ttl = json_opt_duration_s(c->body, "token_ttl");
  auto old_ttl = json_opt_duration_s(c->body, "ttl");
  auto max_ttl = json_opt_duration_s(c->body, "token_max_ttl");
  for (const Status& s : {password.status(), policies.status(), old_policies.status(), ttl.status(),
                          old_ttl.status(), max_ttl.status()}) {
    if (!s.is_ok()) return c->answer(vault_error(400, {s.message()}));
  }
  if (password.value() && password.value()->empty()) {
    return c->answer(vault_error(400, {"password cannot be empty"}));
  }
  Json change = Json::object();
  if (auto p = policies.value() ? policies.value() : old_policies.value()) change["policies"] = *p;
  if (auto t = ttl.value() ? ttl.value() : old_ttl.value()) change["token_ttl_s"] = *t;
  if (max_ttl.value()) change["token_max_ttl_s"] = *max_ttl.value();
  if (password.value()) {
    const std::string salt = random_hex(16);
    change["salt"] = salt;
    change["kdf"] = "pbkdf2-sha256";
    change["iterations"] = options_.pbkdf2_iterations;
    change["hash"] = pbkdf2_hex(*password.value(), salt, options_.pbkdf2_iterations);
  }
  lock(c, path, [this, c, path, change] {
    get(c, path, Freshness::kForWrite, [this, c, path, change](std::optional<std::string> v) {
      Json rec = Json::object();
      if (v) {
        auto old = parse_json_object(*v);
        if (old.is_ok()) rec = std::move(old.value());
      }
      rec.update(change);
      if (!rec.contains("hash")) return c->answer(vault_error(400, {"missing password"}));
      put(c, path, rec.dump(), [c] { c->answer(vault_no_content()); });
    });
  });
}

void VaultApi::userpass_login(CallPtr c, const std::string& user_in) {
  if (c->req.method != "POST" && c->req.method != "PUT") {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  auto password = json_opt_string(c->body, "password");
  if (!password.is_ok()) return c->answer(vault_error(400, {password.status().message()}));
  if (!password.value() || password.value()->empty()) {
    return c->answer(vault_error(400, {"missing password"}));
  }
  const std::string user = lower(user_in);
  const std::string pw = *password.value();
  get(c, std::string(kUsersPrefix) + user, Freshness::kClient,
      [this, c, user, pw](std::optional<std::string> v) {
        auto rec = v ? parse_json_object(*v) : Result<Json>(Status::not_found(""));
        bool ok = false;
        if (rec.is_ok()) {
          const Json& r = rec.value();
          const std::string want = r.value("hash", "");
          const std::string got = pbkdf2_hex(pw, r.value("salt", ""),
                                             r.value("iterations", options_.pbkdf2_iterations));
          ok = !want.empty() && constant_time_equal(want, got);
        }
        if (!ok) return c->answer(vault_error(400, {"invalid username or password"}));
        const Json& r = rec.value();
        Json policies = Json::array({"default"});
        for (const auto& p : r.value("policies", Json::array())) {
          if (p != "default") policies.push_back(p);
        }
        const int64_t ttl = r.value("token_ttl_s", int64_t{0}) > 0
                                ? r.value("token_ttl_s", int64_t{0})
                                : options_.token_ttl_s_default;
        Json token = {{"policies", policies},
                      {"display_name", "userpass-" + user},
                      {"path", "auth/userpass/login/" + user},
                      {"meta", {{"username", user}}},
                      {"ttl_s", ttl},
                      {"expire_us", wall_now_us() + ttl * 1000000},
                      {"renewable", true},
                      {"orphan", true}};
        mint_token(c, std::move(token), [c](std::string id, Json record) {
          c->answer(vault_json(200, envelope(nullptr, auth_block(id, record))));
        });
      });
}

void VaultApi::sweep_tokens(size_t records_max, std::function<void(size_t)> done) {
  if (!node_.is_active()) return done(0);
  auto c = std::make_shared<Call>();
  c->api = this;
  c->alive = alive_;
  auto deleted = std::make_shared<size_t>(0);
  c->respond = [done, deleted](VaultResponse) { done(*deleted); };
  list(c, std::string(kTokensPrefix),
       [this, c, records_max, deleted](std::vector<std::string> all) {
         auto start = std::upper_bound(all.begin(), all.end(), sweep_after_);
         if (start == all.end()) start = all.begin();  // wrap around
         auto batch = std::make_shared<std::vector<std::string>>(
             start, start + std::min<size_t>(records_max, all.end() - start));
         if (!batch->empty()) sweep_after_ = batch->back();
         auto step = std::make_shared<std::function<void(size_t)>>();
         std::weak_ptr<std::function<void(size_t)>> weak_step = step;
         *step = [this, c, batch, deleted, weak_step](size_t i) {
           if (i == batch->size()) return c->answer(vault_no_content());
           const std::string path = (*batch)[i];
           get(c, path, Freshness::kLocal,
               [this, c, path, deleted, i, step = weak_step.lock()](std::optional<std::string> v) {
                 auto record = v ? parse_json_object(*v) : Result<Json>(Status::not_found(""));
                 const int64_t expire_us =
                     record.is_ok() ? record.value().value("expire_us", int64_t{0}) : -1;
                 if (!v || (expire_us != -1 && (expire_us == 0 || expire_us > wall_now_us()))) {
                   return (*step)(i + 1);
                 }
                 (*deleted)++;  // expired, or unreadable (sealed under a replaced keyring)
                 del(c, path, [step, i] { (*step)(i + 1); });
               });
         };
         (*step)(0);
       });
}

void VaultApi::token_renew(CallPtr c) {
  auto increment = json_opt_duration_s(c->body, "increment");
  if (!increment.is_ok()) return c->answer(vault_error(400, {increment.status().message()}));
  if (!c->token.value("renewable", false)) {
    return c->answer(vault_error(400, {"lease is not renewable"}));
  }
  const int64_t ttl = increment.value().value_or(c->token.value("ttl_s", int64_t{0}));
  Json record = c->token;
  record["ttl_s"] = ttl;
  record["expire_us"] = wall_now_us() + ttl * 1000000;
  const std::string token = c->token_id;
  put(c, token_storage_path(token), record.dump(), [c, token, record] {
    c->answer(vault_json(200, envelope(nullptr, auth_block(token, record))));
  });
}

void VaultApi::token_route(CallPtr c, const std::string& rest) {
  const std::string& m = c->req.method;
  const bool write = m == "POST" || m == "PUT";
  if (rest == "lookup-self" && (m == "GET" || write)) {
    return c->answer(vault_json(200, envelope(lookup_data(c->token_id, c->token), nullptr)));
  }
  if (rest == "renew-self" && write) return token_renew(c);
  if (rest == "revoke-self" && write) {
    return del(c, token_storage_path(c->token_id), [c] { c->answer(vault_no_content()); });
  }
  if ((rest == "lookup" || rest == "revoke") && write) {
    if (!require_root(c)) return;
    auto token = json_opt_string(c->body, "token");
    if (!token.is_ok()) return c->answer(vault_error(400, {token.status().message()}));
    if (!token.value()) return c->answer(vault_error(400, {"missing token"}));
    const std::string id = *token.value();
    if (rest == "revoke") {
      return del(c, token_storage_path(id), [c] { c->answer(vault_no_content()); });
    }
    return get(c, token_storage_path(id), Freshness::kLocal, [c, id](std::optional<std::string> v) {
      auto rec = v ? parse_json_object(*v) : Result<Json>(Status::not_found(""));
      if (!rec.is_ok()) return c->answer(vault_error(403, {"bad token"}));
      c->answer(vault_json(200, envelope(lookup_data(id, rec.value()), nullptr)));
    });
  }
  if ((rest == "create" || rest == "create-orphan") && write) {
    if (!require_root(c)) return;
    auto policies = json_opt_strings(c->body, "policies");
    auto ttl = json_opt_duration_s(c->body, "ttl");
    auto renewable = json_opt_bool(c->body, "renewable");
    auto display = json_opt_string(c->body, "display_name");
    auto meta = json_opt_object(c->body, "meta");
    auto num_uses = json_opt_int(c->body, "num_uses");
    auto type = json_opt_string(c->body, "type");
    auto id = json_opt_string(c->body, "id");
    auto no_default = json_opt_bool(c->body, "no_default_policy");
    for (const Status& s :
         {policies.status(), ttl.status(), renewable.status(), display.status(), meta.status(),
          num_uses.status(), type.status(), id.status(), no_default.status()}) {
      if (!s.is_ok()) return c->answer(vault_error(400, {s.message()}));
    }
    if (num_uses.value().value_or(0) != 0) {
      return c->answer(vault_error(400, {"num_uses: replsim tokens have no use limit"}));
    }
    if (type.value().value_or("service") != "service") {
      return c->answer(vault_error(400, {"type: replsim issues service tokens only"}));
    }
    if (meta.value()) {
      for (auto& [k, v] : meta.value()->items()) {
        if (!v.is_string()) return c->answer(vault_error(400, {"field 'meta': expected strings"}));
      }
    }
    std::vector<std::string> pol = policies.value().value_or(std::vector<std::string>{"root"});
    const bool root = std::find(pol.begin(), pol.end(), "root") != pol.end();
    if (!root && !no_default.value().value_or(false) &&
        std::find(pol.begin(), pol.end(), "default") == pol.end()) {
      pol.insert(pol.begin(), "default");
    }
    const int64_t ttl_s = ttl.value().value_or(root ? 0 : options_.token_ttl_s_default);
    Json record = {{"policies", pol},
                   {"display_name", "token-" + display.value().value_or("")},
                   {"path", "auth/token/create"},
                   {"meta", meta.value().value_or(Json::object())},
                   {"ttl_s", ttl_s},
                   {"expire_us", ttl_s == 0 ? 0 : wall_now_us() + ttl_s * 1000000},
                   {"renewable", ttl_s != 0 && renewable.value().value_or(true)},
                   {"orphan", true}};
    return mint_token(
        c, std::move(record),
        [c](std::string token, Json record) {
          c->answer(vault_json(200, envelope(nullptr, auth_block(token, record))));
        },
        id.value().value_or(""));
  }
  c->answer(vault_error(405, {"unsupported operation"}));
}

}  // namespace replsim::runtime
