// runtime/vault_call.h — VaultApi::Call, one request in flight (shared by the route files).
#pragma once

#include "runtime/vault_api.h"
#include "runtime/vault_util.h"

namespace replsim::runtime {

// One request in flight. Shared by every continuation of the request; when the last one
// lets go, the locks it holds are released and, if nothing answered (a bug), a 500 is sent.
struct VaultApi::Call {
  VaultRequest req;
  Respond respond;
  Json body = Json::object();
  std::string token_id;
  Json token;  // the token's record (vault_auth.cc)
  bool root = false;
  bool answered = false;
  bool has_index = false;
  proto::IndexState index;  // the newest replicated state this request saw or made
  std::optional<proto::IndexState> required;  // from X-Vault-Index
  bool forward_stale = false;                 // X-Vault-Inconsistent: forward-active-node
  std::vector<std::string> held;
  VaultApi* api = nullptr;
  std::weak_ptr<bool> alive;

  ~Call() {
    if (alive.expired()) return;
    if (!answered) answer(vault_error(500, {"internal error: request left unanswered"}));
    for (const std::string& k : held) api->unlock(k);
  }
  void answer(VaultResponse r) {
    if (answered) return;
    answered = true;
    if (has_index && r.index.empty()) r.index = format_index_state(index);
    respond(std::move(r));
  }
  void note_index(const proto::IndexState& s) {
    if (!has_index || s.epoch() > index.epoch() ||
        (s.epoch() == index.epoch() && s.wal_index() > index.wal_index())) {
      index = s;
      has_index = true;
    }
  }
};

}  // namespace replsim::runtime
