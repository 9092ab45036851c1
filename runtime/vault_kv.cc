// KV secrets engines: v1 (one JSON object per path) and v2 (one JSON document per path with
// every version and the metadata), each mount in its own namespace m/<uuid>/ (vault_api.h).
// KV v2 changes are read-modify-writes of that document, serialized per document on this
// node; on a secondary the read waits for (or is forwarded to) the primary's position that
// the secondary knows of, and the write is forwarded to the primary by the engine.
#include "runtime/vault_call.h"

namespace replsim::runtime {

namespace {

constexpr int64_t kMaxVersionsDefault = 10;
const char* kV2PathHelp =
    "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API "
    "endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.";

Json envelope(Json data) {
  return {{"request_id", random_uuid()}, {"lease_id", ""},          {"renewable", false},
          {"lease_duration", 0},         {"data", std::move(data)}, {"wrap_info", nullptr},
          {"warnings", nullptr},         {"auth", nullptr}};
}

Json time_or_empty(int64_t us) { return us == 0 ? Json("") : Json(rfc3339(us)); }

Json version_metadata(const Json& v, int64_t n) {
  return {{"created_time", rfc3339(v.value("created_us", int64_t{0}))},
          {"custom_metadata", nullptr},
          {"deletion_time", time_or_empty(v.value("deletion_us", int64_t{0}))},
          {"destroyed", v.value("destroyed", false)},
          {"version", n}};
}

Json parse_doc(const std::optional<std::string>& v) {
  if (!v) return Json();
  auto doc = parse_json_object(*v);
  return doc.is_ok() ? std::move(doc.value()) : Json();
}

Json empty_doc() {
  const int64_t now = wall_now_us();
  return {
      {"versions", Json::object()}, {"current_version", 0},        {"oldest_version", 0},
      {"max_versions", 0},          {"cas_required", false},       {"created_us", now},
      {"updated_us", now},          {"delete_version_after_s", 0}, {"custom_metadata", nullptr}};
}

std::string duration_text(int64_t s) { return std::to_string(s) + "s"; }

}  // namespace

void VaultApi::kv(CallPtr c, const std::string& mount, const Json& entry, const std::string& rest) {
  const std::string prefix = "m/" + entry.value("uuid", std::string("?")) + "/";
  const Json options = entry.value("options", Json::object());
  const std::string version = options.is_object() ? options.value("version", "1") : "1";
  if (version == "2") return kv2(c, prefix, rest);
  kv1(c, prefix, rest);
}

void VaultApi::list_one_level(CallPtr c, const std::string& base, const std::string& folder_in) {
  std::string folder = folder_in;
  if (!folder.empty() && folder.back() != '/') folder += '/';
  const std::string prefix = base + folder;
  list(c, prefix, [c, prefix](std::vector<std::string> keys) {
    std::vector<std::string> names = one_level(keys, prefix);
    if (names.empty()) return c->answer(vault_error(404, {}));
    c->answer(vault_json(200, envelope({{"keys", names}})));
  });
}

void VaultApi::kv1(CallPtr c, const std::string& prefix, const std::string& rest) {
  const std::string& m = c->req.method;
  const std::string base = prefix + "v/";
  if (m == "LIST") return list_one_level(c, base, rest);
  if (rest.empty() || rest.back() == '/') {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  if (m == "GET") {
    return get(c, base + rest, Freshness::kClient, [c](std::optional<std::string> v) {
      if (!v) return c->answer(vault_error(404, {}));
      auto data = parse_json_object(*v);
      if (!data.is_ok()) return c->answer(vault_error(500, {"stored value is not JSON"}));
      Json e = envelope(std::move(data.value()));
      e["lease_duration"] = 2764800;
      c->answer(vault_json(200, e));
    });
  }
  if (m == "PUT" || m == "POST") {
    if (c->body.empty()) return c->answer(vault_error(400, {"no data provided"}));
    return put(c, base + rest, c->body.dump(), [c] { c->answer(vault_no_content()); });
  }
  if (m == "DELETE") return del(c, base + rest, [c] { c->answer(vault_no_content()); });
  c->answer(vault_error(405, {"unsupported operation"}));
}

void VaultApi::kv2(CallPtr c, const std::string& prefix, const std::string& rest) {
  const size_t slash = rest.find('/');
  const std::string op = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  const std::string& m = c->req.method;
  const bool write = m == "POST" || m == "PUT";
  if (op == "config" && slash == std::string::npos) return kv2_config(c, prefix);
  if (op == "metadata") return kv2_metadata(c, prefix, path);
  if (op != "data" && op != "delete" && op != "undelete" && op != "destroy") {
    return c->answer(vault_error(404, {kV2PathHelp}));
  }
  if (path.empty() || path.back() == '/') {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  if (op != "data") {
    if (!write) return c->answer(vault_error(405, {"unsupported operation"}));
    return kv2_versions(c, prefix, path, op);
  }
  if (write) return kv2_write(c, prefix, path);
  if (m == "DELETE") return kv2_versions(c, prefix, path, "delete-latest");
  if (m != "GET") return c->answer(vault_error(405, {"unsupported operation"}));
  int64_t want = 0;
  if (auto it = c->req.query.find("version"); it != c->req.query.end()) {
    Json q = {{"version", it->second}};
    auto v = json_opt_int(q, "version");
    if (!v.is_ok() || *v.value() < 0) return c->answer(vault_error(400, {"invalid version"}));
    want = *v.value();
  }
  get(c, prefix + "d/" + path, Freshness::kClient, [c, want](std::optional<std::string> v) {
    Json doc = parse_doc(v);
    if (doc.is_null()) return c->answer(vault_error(404, {}));
    const int64_t n = want != 0 ? want : doc.value("current_version", int64_t{0});
    const Json versions = doc.value("versions", Json::object());
    auto it = versions.find(std::to_string(n));
    if (it == versions.end()) return c->answer(vault_error(404, {}));
    Json meta = version_metadata(*it, n);
    const bool gone = it->value("destroyed", false) || it->value("deletion_us", int64_t{0}) != 0;
    Json data = gone ? Json() : it->value("data", Json());
    c->answer(vault_json(gone ? 404 : 200, envelope({{"data", data}, {"metadata", meta}})));
  });
}

void VaultApi::kv2_write(CallPtr c, const std::string& prefix, const std::string& path) {
  auto data = json_opt_object(c->body, "data");
  auto options = json_opt_object(c->body, "options");
  if (!data.is_ok()) return c->answer(vault_error(400, {data.status().message()}));
  if (!options.is_ok()) return c->answer(vault_error(400, {options.status().message()}));
  if (!data.value()) return c->answer(vault_error(400, {"no data provided"}));
  std::optional<int64_t> cas;
  if (options.value()) {
    auto v = json_opt_int(*options.value(), "cas");
    if (!v.is_ok()) return c->answer(vault_error(400, {"options.cas: expected an integer"}));
    cas = v.value();
  }
  const std::string doc_path = prefix + "d/" + path;
  const Json value = *data.value();
  lock(c, doc_path, [this, c, prefix, doc_path, value, cas] {
    get(c, prefix + "config", Freshness::kForWrite, [=, this](std::optional<std::string> cfg_text) {
      const Json cfg = parse_doc(cfg_text);
      get(c, doc_path, Freshness::kForWrite, [=, this](std::optional<std::string> v) {
        Json doc = parse_doc(v);
        if (doc.is_null()) doc = empty_doc();
        const int64_t current = doc.value("current_version", int64_t{0});
        const bool cas_required = doc.value("cas_required", false) ||
                                  (cfg.is_object() && cfg.value("cas_required", false));
        if (cas && *cas != current) {
          return c->answer(
              vault_error(400, {"check-and-set parameter did not match the current version"}));
        }
        if (!cas && cas_required) {
          return c->answer(vault_error(400, {"check-and-set parameter required for this call"}));
        }
        const int64_t n = current + 1;
        const int64_t now = wall_now_us();
        Json version = {
            {"data", value}, {"created_us", now}, {"deletion_us", 0}, {"destroyed", false}};
        doc["versions"][std::to_string(n)] = version;
        doc["current_version"] = n;
        doc["updated_us"] = now;
        if (doc.value("oldest_version", int64_t{0}) == 0) doc["oldest_version"] = n;
        int64_t max = doc.value("max_versions", int64_t{0});
        if (max <= 0 && cfg.is_object()) max = cfg.value("max_versions", int64_t{0});
        if (max <= 0) max = kMaxVersionsDefault;
        int64_t oldest = doc.value("oldest_version", int64_t{1});
        while (n - oldest + 1 > max) doc["versions"].erase(std::to_string(oldest++));
        doc["oldest_version"] = oldest;
        put(c, doc_path, doc.dump(), [c, version, n] {
          c->answer(vault_json(200, envelope(version_metadata(version, n))));
        });
      });
    });
  });
}

void VaultApi::kv2_versions(CallPtr c, const std::string& prefix, const std::string& path,
                            const std::string& action) {
  std::vector<int64_t> versions;
  if (action != "delete-latest") {
    auto v = json_opt_ints(c->body, "versions");
    if (!v.is_ok()) return c->answer(vault_error(400, {v.status().message()}));
    if (!v.value() || v.value()->empty())
      return c->answer(vault_error(400, {"no versions provided"}));
    versions = *v.value();
  }
  const std::string doc_path = prefix + "d/" + path;
  lock(c, doc_path, [=, this] {
    get(c, doc_path, Freshness::kForWrite, [=, this](std::optional<std::string> v) {
      Json doc = parse_doc(v);
      if (doc.is_null()) return c->answer(vault_no_content());
      std::vector<int64_t> targets = versions;
      if (action == "delete-latest") targets = {doc.value("current_version", int64_t{0})};
      const int64_t now = wall_now_us();
      for (int64_t n : targets) {
        auto it = doc["versions"].find(std::to_string(n));
        if (it == doc["versions"].end() || it->value("destroyed", false)) continue;
        if (action == "undelete") {
          (*it)["deletion_us"] = 0;
        } else if (action == "destroy") {
          (*it)["destroyed"] = true;
          (*it)["data"] = nullptr;
        } else if (it->value("deletion_us", int64_t{0}) == 0) {
          (*it)["deletion_us"] = now;
        }
      }
      doc["updated_us"] = now;
      put(c, doc_path, doc.dump(), [c] { c->answer(vault_no_content()); });
    });
  });
}

void VaultApi::kv2_metadata(CallPtr c, const std::string& prefix, const std::string& path) {
  const std::string& m = c->req.method;
  if (m == "LIST") return list_one_level(c, prefix + "d/", path);
  if (path.empty() || path.back() == '/') {
    return c->answer(vault_error(405, {"unsupported operation"}));
  }
  const std::string doc_path = prefix + "d/" + path;
  if (m == "DELETE") return del(c, doc_path, [c] { c->answer(vault_no_content()); });
  if (m == "GET") {
    return get(c, doc_path, Freshness::kClient, [c](std::optional<std::string> v) {
      Json doc = parse_doc(v);
      if (doc.is_null()) return c->answer(vault_error(404, {}));
      Json versions = Json::object();
      const Json all = doc.value("versions", Json::object());
      for (auto& [n, ver] : all.items()) {
        Json one = version_metadata(ver, std::stoll(n));
        one.erase("version");
        one.erase("custom_metadata");
        versions[n] = one;
      }
      c->answer(vault_json(
          200, envelope({{"cas_required", doc.value("cas_required", false)},
                         {"created_time", rfc3339(doc.value("created_us", int64_t{0}))},
                         {"current_version", doc.value("current_version", int64_t{0})},
                         {"custom_metadata", doc.value("custom_metadata", Json())},
                         {"delete_version_after",
                          duration_text(doc.value("delete_version_after_s", int64_t{0}))},
                         {"max_versions", doc.value("max_versions", int64_t{0})},
                         {"oldest_version", doc.value("oldest_version", int64_t{0})},
                         {"updated_time", rfc3339(doc.value("updated_us", int64_t{0}))},
                         {"versions", versions}})));
    });
  }
  if (m != "POST" && m != "PUT") return c->answer(vault_error(405, {"unsupported operation"}));
  auto max = json_opt_int(c->body, "max_versions");
  auto cas_required = json_opt_bool(c->body, "cas_required");
  auto after = json_opt_duration_s(c->body, "delete_version_after");
  auto custom = json_opt_object(c->body, "custom_metadata");
  for (const Status& s : {max.status(), cas_required.status(), after.status(), custom.status()}) {
    if (!s.is_ok()) return c->answer(vault_error(400, {s.message()}));
  }
  if (max.value().value_or(0) < 0) return c->answer(vault_error(400, {"max_versions < 0"}));
  Json change = Json::object();
  if (max.value()) change["max_versions"] = *max.value();
  if (cas_required.value()) change["cas_required"] = *cas_required.value();
  if (after.value()) change["delete_version_after_s"] = *after.value();
  if (custom.value()) change["custom_metadata"] = *custom.value();
  lock(c, doc_path, [=, this] {
    get(c, doc_path, Freshness::kForWrite, [=, this](std::optional<std::string> v) {
      Json doc = parse_doc(v);
      if (doc.is_null()) doc = empty_doc();
      doc.update(change);
      doc["updated_us"] = wall_now_us();
      put(c, doc_path, doc.dump(), [c] { c->answer(vault_no_content()); });
    });
  });
}

void VaultApi::kv2_config(CallPtr c, const std::string& prefix) {
  const std::string& m = c->req.method;
  const std::string path = prefix + "config";
  if (m == "GET") {
    return get(c, path, Freshness::kClient, [c](std::optional<std::string> v) {
      Json cfg = parse_doc(v);
      if (cfg.is_null()) cfg = Json::object();
      c->answer(vault_json(
          200, envelope({{"cas_required", cfg.value("cas_required", false)},
                         {"delete_version_after",
                          duration_text(cfg.value("delete_version_after_s", int64_t{0}))},
                         {"max_versions", cfg.value("max_versions", int64_t{0})}})));
    });
  }
  if (m != "POST" && m != "PUT") return c->answer(vault_error(405, {"unsupported operation"}));
  auto max = json_opt_int(c->body, "max_versions");
  auto cas_required = json_opt_bool(c->body, "cas_required");
  auto after = json_opt_duration_s(c->body, "delete_version_after");
  for (const Status& s : {max.status(), cas_required.status(), after.status()}) {
    if (!s.is_ok()) return c->answer(vault_error(400, {s.message()}));
  }
  if (max.value().value_or(0) < 0) return c->answer(vault_error(400, {"max_versions < 0"}));
  lock(c, path, [=, this] {
    get(c, path, Freshness::kForWrite, [=, this](std::optional<std::string> v) {
      Json cfg = parse_doc(v);
      if (cfg.is_null()) cfg = Json::object();
      if (max.value()) cfg["max_versions"] = *max.value();
      if (cas_required.value()) cfg["cas_required"] = *cas_required.value();
      if (after.value()) cfg["delete_version_after_s"] = *after.value();
      put(c, path, cfg.dump(), [c] { c->answer(vault_no_content()); });
    });
  });
}

}  // namespace replsim::runtime
