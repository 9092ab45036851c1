// Node::submit_trusted: the in-process entry of a node's own API front end (runtime/'s Vault
// HTTP layer), which authenticates and authorizes every client itself (Vault tokens and
// policies live above the engine). The request is routed exactly as one from the network
// (standby → active, secondary → primary forwarding, read-after-write, required index
// states) but without the engine's own token check.
#include "engine/cluster/node_impl.h"

namespace replsim::cluster {

void Node::submit_trusted(proto::ClientRequest request,
                          std::function<void(const proto::ClientResponse&)> done) {
  REPLSIM_ASSERT(request.request_id() != 0);
  Origin origin;
  origin.trusted = true;
  impl_->handle_client(std::move(request), std::nullopt, origin,
                       [done = std::move(done)](proto::ClientResponse r) { done(r); });
}

}  // namespace replsim::cluster
