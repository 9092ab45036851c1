// Policies (Vault's ACL model, small): named policies map path patterns to capabilities and
// are replicated config at vault/policies/<name>. The policy text is Vault's JSON policy
// form: {"path": {"secret/data/*": {"capabilities": ["read", "list"]}}}. A root token may do
// everything; any other token may use a KV path when the merged rules of its policies grant
// the capability there: an exact pattern wins over globs, else the longest glob ("prefix*")
// that matches; "deny" refuses whatever else is granted.
#include <set>

#include "runtime/vault_call.h"

namespace replsim::runtime {

namespace {

constexpr std::string_view kPoliciesPrefix = "vault/policies/";
const std::set<std::string> kCapabilities = {"create", "read", "update", "delete",
                                             "list",   "sudo", "deny"};

// Validates a policy text; returns its rules {pattern: [capabilities]}.
Result<Json> parse_policy(const std::string& text) {
  auto doc = parse_json_object(text);
  if (!doc.is_ok()) {
    return Status::invalid_argument(
        "failed to parse policy: replsim reads Vault's JSON policy form "
        "({\"path\":{\"secret/*\":{\"capabilities\":[\"read\"]}}}), not HCL");
  }
  auto paths = json_opt_object(doc.value(), "path");
  if (!paths.is_ok()) return paths.status();
  Json rules = Json::object();
  if (!paths.value()) return rules;
  for (auto& [pattern, rule] : paths.value()->items()) {
    if (!rule.is_object())
      return Status::invalid_argument("path \"" + pattern + "\": not an object");
    auto caps = json_opt_strings(rule, "capabilities");
    if (!caps.is_ok()) return caps.status();
    for (const std::string& cap : caps.value().value_or(std::vector<std::string>{})) {
      if (!kCapabilities.count(cap)) {
        return Status::invalid_argument("path \"" + pattern + "\": unknown capability " + cap);
      }
    }
    rules[pattern] = caps.value().value_or(std::vector<std::string>{});
  }
  return rules;
}

// The capabilities the merged `rules` give `path`.
std::set<std::string> capabilities_at(const std::map<std::string, std::set<std::string>>& rules,
                                      const std::string& path) {
  auto exact = rules.find(path);
  if (exact != rules.end()) return exact->second;
  const std::set<std::string>* best = nullptr;
  size_t best_len = 0;
  for (const auto& [pattern, caps] : rules) {
    if (pattern.empty() || pattern.back() != '*') continue;
    const std::string prefix = pattern.substr(0, pattern.size() - 1);
    if (path.rfind(prefix, 0) == 0 && (best == nullptr || prefix.size() >= best_len)) {
      best = &caps;
      best_len = prefix.size();
    }
  }
  return best ? *best : std::set<std::string>{};
}

}  // namespace

void VaultApi::authorize(CallPtr c, std::function<void()> k) {
  const std::string& method = c->req.method;
  const bool known = method == "GET" || method == "HEAD" || method == "LIST" || method == "POST" ||
                     method == "PUT" || method == "DELETE";
  if (c->root || !known) return k();  // another method is answered 405 by its route
  std::vector<std::string> names;
  for (const auto& p : c->token.value("policies", Json::array())) {
    if (p.is_string() && p != "default") names.push_back(p.get<std::string>());
  }
  auto rules = std::make_shared<std::map<std::string, std::set<std::string>>>();
  auto step = std::make_shared<std::function<void(size_t)>>();
  std::weak_ptr<std::function<void(size_t)>> weak_step = step;  // no self-owning cycle
  *step = [this, c, names, rules, weak_step, k](size_t i) {
    if (i == names.size()) {
      const std::string& m = c->req.method;
      const std::set<std::string> caps = capabilities_at(*rules, c->req.path);
      bool granted = false;
      if (m == "GET" || m == "HEAD") granted = caps.count("read");
      if (m == "LIST") granted = caps.count("list");
      if (m == "POST" || m == "PUT") granted = caps.count("create") || caps.count("update");
      if (m == "DELETE") granted = caps.count("delete");
      if (!granted || caps.count("deny")) return c->answer(vault_error(403, {"permission denied"}));
      return k();
    }
    // The pending read owns the step until it answers.
    get(c, std::string(kPoliciesPrefix) + names[i], Freshness::kClient,
        [rules, step = weak_step.lock(), i](std::optional<std::string> v) {
          if (v) {
            auto doc = parse_json_object(*v);
            if (doc.is_ok()) {
              const Json stored = doc.value().value("rules", Json::object());
              for (auto& [pattern, caps] : stored.items()) {
                for (const auto& cap : caps) (*rules)[pattern].insert(cap.get<std::string>());
              }
            }
          }
          (*step)(i + 1);
        });
  };
  (*step)(0);
}

void VaultApi::sys_policy(CallPtr c, const std::string& rest, bool acl_form) {
  if (!require_root(c)) return;
  const std::string& m = c->req.method;
  if (rest.empty() || rest == "/") {
    if (m != "GET" && m != "LIST") return c->answer(vault_error(405, {"unsupported operation"}));
    return list(c, std::string(kPoliciesPrefix), [c](std::vector<std::string> keys) {
      std::vector<std::string> names = one_level(keys, kPoliciesPrefix);
      names.insert(names.begin(), {"default", "root"});
      Json j = {{"keys", names}, {"policies", names}};
      Json out = j;
      out["data"] = j;
      c->answer(vault_json(200, out));
    });
  }
  const std::string name = rest.substr(1);
  if (name.empty() || name.find('/') != std::string::npos) {
    return c->answer(vault_error(400, {"invalid policy name"}));
  }
  const std::string path = std::string(kPoliciesPrefix) + name;
  if (m == "GET") {
    return get(c, path, Freshness::kClient, [c, name, acl_form](std::optional<std::string> v) {
      auto doc = v ? parse_json_object(*v) : Result<Json>(Status::not_found(""));
      if (!doc.is_ok()) return c->answer(vault_error(404, {}));
      const std::string text = doc.value().value("policy", "");
      Json j = {{"name", name}, {acl_form ? "policy" : "rules", text}};
      Json out = j;
      out["data"] = j;
      c->answer(vault_json(200, out));
    });
  }
  if (name == "root" || name == "default") {
    return c->answer(vault_error(400, {"cannot update or delete the " + name + " policy"}));
  }
  if (m == "DELETE") return del(c, path, [c] { c->answer(vault_no_content()); });
  if (m != "PUT" && m != "POST") return c->answer(vault_error(405, {"unsupported operation"}));
  auto text = json_opt_string(c->body, "policy");
  if (!text.is_ok()) return c->answer(vault_error(400, {text.status().message()}));
  if (!text.value()) return c->answer(vault_error(400, {"missing policy"}));
  auto rules = parse_policy(*text.value());
  if (!rules.is_ok()) return c->answer(vault_error(400, {rules.status().message()}));
  Json doc = {{"name", name}, {"policy", *text.value()}, {"rules", rules.value()}};
  put(c, path, doc.dump(), [c] { c->answer(vault_no_content()); });
}

}  // namespace replsim::runtime
