#include "engine/replication/modes.h"

#include "engine/assert.h"

namespace replsim::replication {

std::string_view mode_name(proto::ReplicationMode mode) {
  switch (mode) {
    case proto::MODE_UNKNOWN:
      return "unknown";
    case proto::MODE_DISABLED:
      return "disabled";
    case proto::MODE_PRIMARY:
      return "primary";
    case proto::MODE_SECONDARY:
      return "secondary";
    default:
      break;
  }
  REPLSIM_ASSERT_MSG(false, "unnamed replication mode");
  return "";
}

std::string_view state_name(proto::ReplicationState state) {
  switch (state) {
    case proto::STATE_UNKNOWN:
      return "unknown";
    case proto::STATE_IDLE:
      return "idle";
    case proto::STATE_CONNECTING:
      return "connecting";
    case proto::STATE_MERKLE_DIFF:
      return "merkle-diff";
    case proto::STATE_MERKLE_SYNC:
      return "merkle-sync";
    case proto::STATE_STREAM_WALS:
      return "stream-wals";
    case proto::STATE_RUNNING:
      return "running";
    default:
      break;
  }
  REPLSIM_ASSERT_MSG(false, "unnamed replication state");
  return "";
}

}  // namespace replsim::replication
