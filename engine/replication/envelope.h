// engine/replication/envelope.h — sending one proto::NodeEnvelope to another node.
#pragma once

#include <string>

#include "engine/env.h"
#include "proto/replication.pb.h"

namespace replsim::replication {

// Serializes `envelope` and sends it through env (the one way nodes talk to each other).
inline void send_envelope(Env& env, NodeId to, const proto::NodeEnvelope& envelope) {
  std::string bytes;
  envelope.SerializeToString(&bytes);
  env.send(to, std::move(bytes));
}

}  // namespace replsim::replication
