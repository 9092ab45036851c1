// sys/replication/ routes: Vault's performance replication API over the engine's operator
// actions. "sys/replication/performance/<x>" and the short "sys/replication/<x>" are the same.
#include "runtime/vault_call.h"

namespace replsim::runtime {

namespace {

std::string connection_state(const std::string& state) {
  if (state == "stream-wals" || state == "merkle-diff" || state == "merkle-sync") return "ready";
  if (state == "connecting") return "connecting";
  return "idle";
}

Json heartbeat(int64_t us) { return us == 0 ? Json(nullptr) : Json(rfc3339(us)); }

Json performance_status(const proto::ReplicationStatus& s) {
  Json j = {{"mode", s.mode()},
            {"state", s.state()},
            {"cluster_id", std::to_string(s.cluster_id())},
            {"merkle_root", s.merkle_root()},
            {"last_wal", s.last_wal()},
            {"last_reindex_epoch", "0"},
            {"corrupted_merkle_tree", false},
            {"last_corruption_check_epoch", "0"},
            // replsim's own figures (Vault has no equivalent field)
            {"epoch", s.epoch()},
            {"node", s.node()},
            {"is_active", s.is_active()},
            {"lock_generation", s.lock_generation()}};
  if (s.mode() == "primary") {
    Json ids = Json::array();
    Json secondaries = Json::array();
    for (const auto& k : s.known_secondaries()) {
      ids.push_back(k.node_id());
      secondaries.push_back({{"node_id", k.node_id()},
                             {"cluster_id", std::to_string(k.cluster_id())},
                             {"connection_status", k.connection_status()},
                             {"last_heartbeat", heartbeat(k.last_heartbeat_us())},
                             {"last_acked_wal", k.last_acked_wal()},
                             {"lag_entries", k.lag_entries()},
                             {"api_address", ""},
                             {"cluster_address", ""}});
    }
    j["last_performance_wal"] = s.last_wal();
    j["known_secondaries"] = ids;
    j["secondaries"] = secondaries;
    j["primary_cluster_addr"] = "";
  } else if (s.mode() == "secondary") {
    const std::string state = connection_state(s.state());
    j["last_remote_wal"] = s.last_remote_wal();
    j["connection_state"] = state;
    j["secondary_id"] = s.secondary_id();
    j["primary_cluster_addr"] = s.primary_cluster_addr();
    j["known_primary_cluster_addrs"] = Json::array({s.primary_cluster_addr()});
    j["primaries"] =
        Json::array({{{"cluster_address", s.primary_cluster_addr()},
                      {"api_address", ""},
                      {"connection_status", state == "ready" ? "connected" : "disconnected"},
                      {"last_heartbeat", heartbeat(s.last_heartbeat_us())}}});
    j["lag_entries"] = s.lag_entries();
    j["lag_us"] = s.lag_us();
  }
  return j;
}

Json with_warning(const std::string& warning) {
  return {{"request_id", random_uuid()}, {"lease_id", ""},  {"renewable", false},
          {"lease_duration", 0},         {"data", nullptr}, {"wrap_info", nullptr},
          {"warnings", {warning}},       {"auth", nullptr}};
}

}  // namespace

void VaultApi::replication(CallPtr c, const std::string& rest_in) {
  std::string rest = rest_in;
  if (rest.rfind("performance/", 0) == 0) rest = rest.substr(12);
  const std::string& m = c->req.method;
  if (rest == "status") {
    if (m != "GET") return c->answer(vault_error(405, {"unsupported operation"}));
    proto::OperatorRequest op;
    op.mutable_status();
    const bool both = rest_in == "status";
    return operate(c, std::move(op), [c, both](const proto::OperatorResponse& r) {
      Json perf = performance_status(r.status());
      Json data = both ? Json{{"dr", {{"mode", "disabled"}}}, {"performance", perf}} : perf;
      c->answer(vault_json(200, {{"request_id", random_uuid()},
                                 {"data", data},
                                 {"warnings", nullptr},
                                 {"wrap_info", nullptr}}));
    });
  }
  if (!require_root(c)) return;
  if (m != "POST" && m != "PUT") return c->answer(vault_error(405, {"unsupported operation"}));
  proto::OperatorRequest op;
  std::string warning = "replication action done";
  if (rest == "primary/enable") {
    op.mutable_enable_primary();
    warning = "This cluster is being enabled as a primary for replication.";
  } else if (rest == "primary/secondary-token") {
    auto id = json_opt_string(c->body, "id");
    auto ttl = json_opt_duration_s(c->body, "ttl");
    auto ttl_us = json_opt_int(c->body, "ttl_us");
    for (const Status& s : {id.status(), ttl.status(), ttl_us.status()}) {
      if (!s.is_ok()) return c->answer(vault_error(400, {s.message()}));
    }
    if (!id.value() || id.value()->empty()) return c->answer(vault_error(400, {"missing id"}));
    if (ttl_us.value() && *ttl_us.value() <= 0) {
      return c->answer(vault_error(400, {"field 'ttl_us': expected a positive integer"}));
    }
    op.mutable_secondary_token()->set_id(*id.value());
    if (ttl.value()) op.mutable_secondary_token()->set_ttl_us(*ttl.value() * kUsPerSec);
    if (ttl_us.value()) op.mutable_secondary_token()->set_ttl_us(*ttl_us.value());
    const int64_t ttl_s = op.secondary_token().ttl_us() / kUsPerSec;
    return operate(c, std::move(op), [c, ttl_s](const proto::OperatorResponse& r) {
      Json wrap = {{"token", r.token()},
                   {"accessor", ""},
                   {"ttl", ttl_s == 0 ? 1800 : ttl_s},
                   {"creation_time", rfc3339(wall_now_us())},
                   {"creation_path", "sys/replication/performance/primary/secondary-token"},
                   {"wrapped_accessor", ""}};
      c->answer(vault_json(200, {{"request_id", random_uuid()},
                                 {"lease_id", ""},
                                 {"renewable", false},
                                 {"lease_duration", 0},
                                 {"data", nullptr},
                                 {"wrap_info", wrap},
                                 {"warnings", nullptr},
                                 {"auth", nullptr}}));
    });
  } else if (rest == "primary/demote" || rest == "secondary/demote") {
    op.mutable_demote();
  } else if (rest == "secondary/promote") {
    op.mutable_promote();
  } else if (rest == "secondary/enable" || rest == "secondary/update-primary") {
    auto token = json_opt_string(c->body, "token");
    if (!token.is_ok()) return c->answer(vault_error(400, {token.status().message()}));
    if (!token.value() || token.value()->empty()) {
      return c->answer(vault_error(400, {"missing token"}));
    }
    if (rest == "secondary/enable") {
      op.mutable_enable_secondary()->set_token(*token.value());
    } else {
      op.mutable_update_primary()->set_token(*token.value());
    }
  } else if (rest == "primary/revoke-secondary" || rest == "secondary/disable" ||
             rest == "primary/disable") {
    return c->answer(vault_error(
        400, {"sys/replication/performance/" + rest + " is not supported by replsim's engine"}));
  } else {
    return c->answer(vault_error(404, {"unsupported path"}));
  }
  const bool enabling_secondary = op.has_enable_secondary();
  operate(c, std::move(op), [this, c, warning, enabling_secondary](const proto::OperatorResponse&) {
    if (!enabling_secondary) return c->answer(vault_json(200, with_warning(warning)));
    // The cluster now holds the primary's keyring: local records sealed before no longer
    // open (its tokens are void, as Vault's are after secondary enable). Rewrite the init
    // record, and in dev mode the root token, under the new keyring.
    reseal_local_records(c, [c, warning] { c->answer(vault_json(200, with_warning(warning))); });
  });
}

}  // namespace replsim::runtime
