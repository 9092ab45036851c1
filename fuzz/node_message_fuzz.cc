// libFuzzer target: every protobuf message a node accepts from the network (NodeEnvelope:
// client and operator requests, forwarding, activation, streaming, WAL batches and acks,
// heartbeats, reconciliation and merkle rounds), delivered to the nodes of a small simulated
// world with replication running (node_message_fuzz.h), as if sent by a peer, a client or a
// stranger.
// Property: no node crashes, trips an assertion or a sanitizer, whatever it is sent; bad
// messages are dropped or answered with an error.
//
// Building the world (setup_replication) costs far more than one input, so a world serves
// kInputsPerWorld inputs before it is rebuilt from the same seed; a crash found mid-world
// may need the inputs before it (libFuzzer still saves the input that crashed; rerun it
// alone first: it gets a fresh world).
#include "fuzz/node_message_fuzz.h"

#include <string>

#include "fuzz/fuzz_util.h"

namespace replsim::fuzz {
namespace {

constexpr int kInputsPerWorld = 256;
constexpr int kMessagesMax = 16;
constexpr TimeUs kAfterMessageUs = 2 * kUsPerMs;
constexpr TimeUs kAfterInputUs = 100 * kUsPerMs;  // answers, a retry or two

std::unique_ptr<cluster::testkit::Topology> world;
int inputs_in_world = 0;

void run(Input in) {
  if (!world || inputs_in_world++ == kInputsPerWorld) {
    world.reset();
    world = make_fuzz_world(1);
    FUZZ_CHECK(world != nullptr, "the fuzz world did not set up replication");
    inputs_in_world = 1;
  }
  sim::SimWorld& w = world->world();
  for (int i = 0; i < kMessagesMax && !in.empty(); ++i) {
    const NodeId to = kNodeTargets[in.u8() % 4];
    const NodeId from = kNodeSenders[in.u8() % 6];
    w.network().send(from, to, std::string(in.blob()));
    w.run_for(kAfterMessageUs);
  }
  w.run_for(kAfterInputUs);
}

}  // namespace
}  // namespace replsim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replsim::fuzz::run(replsim::fuzz::Input(data, size));
  return 0;
}
