// SimWorld: one deterministic simulated world — the event loop, the network, the disks, the
// nodes (processes with their clocks), buggify, the trace hash and the fault recorder.
//
// Determinism: everything random draws from child streams of one root Prng(seed), named by
// component ("network", "disk/<name>", "node/<id>/<incarnation>", "clock/<id>", "buggify",
// "world"), so adding draws in one component never shifts another. Nodes and disks are kept in
// ordered maps keyed by id/name. The same seed on the same build gives the same trace hash.
//
// Process model:
// - add_node() boots a node at once: the boot function makes its Process from a fresh SimEnv.
// - crash() destroys the Process and its SimEnv: every pending timer, held callback and I/O
//   completion of that incarnation is dropped, messages arriving while down are dropped; what
//   it wrote stays on its disk (the OS cache survives). restart() boots a new incarnation.
// - pause()/resume(): stop-the-world. Callbacks due while paused run at resume, in order.
// - power_loss(disk): crashes every node using that disk, then SimDisk::power_loss().
// - Clocks: unless given, each node's clock offset is drawn in [0, clock_offset_max_us] and its
//   drift in [-clock_drift_max_ppm, +clock_drift_max_ppm]; bump_clock() is a clock fault.
// REQUIRES: crash/restart/pause/resume/power_loss are called from world-level code (the
// harness), never from inside a callback of the node they act on.
//
// On an assertion failure the world's hook prints "seed=<seed>" and the reproduction command.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/env.h"
#include "sim/buggify.h"
#include "sim/cpu.h"
#include "sim/disk.h"
#include "sim/event_loop.h"
#include "sim/network.h"
#include "sim/prng.h"
#include "sim/sim_env.h"
#include "sim/trace.h"

namespace replsim::sim {

// What the harness or engine wraps its node objects in; destroyed on crash.
class Process {
 public:
  virtual ~Process() = default;
};

using BootFn = std::function<std::unique_ptr<Process>(Env& env)>;

struct ClockModel {
  TimeUs offset_us = 0;
  double drift_ppm = 0.0;
};

// Trace node id of world-level events (faults not tied to one node).
constexpr uint32_t kWorldTraceNode = UINT32_MAX;

struct WorldOptions {
  uint64_t seed = 1;
  bool buggify = true;        // false: every buggify() call returns false
  bool random_clocks = true;  // nodes added without a ClockModel get a random one
  TimeUs clock_offset_max_us = 500 * kUsPerMs;
  double clock_drift_max_ppm = 100.0;
  uint64_t events_max = 100'000'000;  // per world: a livelock bound
  bool keep_events = false;           // keep trace events for divergence reports
  // Printed on an assertion failure; "{seed}" is replaced by the seed.
  std::string repro_command = "replsim run --seed={seed}";
};

class SimWorld {
 public:
  explicit SimWorld(WorldOptions options);
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  uint64_t seed() const { return options_.seed; }
  const WorldOptions& options() const { return options_; }
  EventLoop& loop() { return loop_; }
  TimeUs now() const { return loop_.now(); }
  Trace& trace() { return trace_; }
  FaultRecorder& faults() { return faults_; }
  Network& network() { return *network_; }
  Buggify& buggify() { return *buggify_; }
  // A stream for world-level decisions (the harness's fault schedule, workloads).
  Prng& random() { return world_random_; }
  // The reproduction line for this seed.
  std::string repro_command() const;

  // --- disks ---
  SimDisk& add_disk(const std::string& name, DiskOptions options = {});
  SimDisk& disk(const std::string& name);

  // --- nodes ---
  // Adds and boots a node using disk `disk_name` ("" for none), with a random clock
  // (WorldOptions) or the given one.
  void add_node(NodeId id, const std::string& disk_name, BootFn boot);
  void add_node(NodeId id, const std::string& disk_name, ClockModel clock, BootFn boot);
  std::vector<NodeId> nodes() const;
  bool up(NodeId id) const;
  bool paused(NodeId id) const;
  uint64_t incarnation(NodeId id) const;  // 1 for the first boot
  Process* process(NodeId id);            // nullptr while down
  SimEnv* env(NodeId id);                 // nullptr while down
  const NodeClock& clock(NodeId id) const;
  // Gives node `id` a simulated CPU (sim/cpu.h): from now on every message delivered to it
  // first waits for a core for service_us(payload) of virtual time; a message the full queue
  // refuses is dropped (traced "cpu_refused"). The CPU is the host's: it outlives crashes.
  // Without one a node serves any load in zero time.
  using ServiceTimeFn = std::function<TimeUs(std::string_view payload)>;
  void set_cpu(NodeId id, CpuOptions options, ServiceTimeFn service_us);
  const SimCpu* cpu(NodeId id) const;  // nullptr without one
  TimeUs node_now_us(NodeId id) const;

  // --- process and clock faults (each recorded) ---
  void crash(NodeId id);
  void restart(NodeId id);
  void pause(NodeId id);
  void resume(NodeId id);
  void power_loss(const std::string& disk_name);
  void bump_clock(NodeId id, TimeUs delta_us);

  // --- running (bounded by WorldOptions::events_max) ---
  uint64_t run_until(TimeUs time_us) { return loop_.run_until(time_us); }
  uint64_t run_for(TimeUs duration_us) { return loop_.run_until(loop_.now() + duration_us); }
  uint64_t run_while(const std::function<bool()>& keep_going) {
    return loop_.run_while(keep_going);
  }
  bool event_limit_reached() const { return loop_.event_limit_reached(); }

 private:
  struct Node {
    NodeId id;
    std::string disk_name;
    BootFn boot;
    std::unique_ptr<NodeClock> clock;
    uint64_t incarnation = 0;
    std::unique_ptr<SimEnv> env;  // null while down
    std::unique_ptr<Process> process;
    std::unique_ptr<SimCpu> cpu;  // null: zero-time service
    ServiceTimeFn service_us;
  };
  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  void boot_node(Node& n);
  void record(NodeId id, const char* kind, std::string detail = "");
  void deliver(NodeId id, NodeId from, std::string payload);

  WorldOptions options_;
  Prng root_;
  Prng world_random_;
  EventLoop loop_;
  Trace trace_;
  FaultRecorder faults_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<Buggify> buggify_;
  std::map<std::string, std::unique_ptr<SimDisk>> disks_;
  std::map<NodeId, Node> nodes_;
  AssertHook previous_hook_ = nullptr;
  SimWorld* previous_world_ = nullptr;
};

// Runs `scenario` (builds and runs a world) twice with the same options and compares.
struct DeterminismReport {
  uint64_t hash_first = 0;
  uint64_t hash_second = 0;
  uint64_t events_first = 0;  // trace events
  uint64_t events_second = 0;
  bool identical = false;
  std::string divergence;  // divergence_report() of the two traces, "no divergence" if equal
};
DeterminismReport run_twice(WorldOptions options, const std::function<void(SimWorld&)>& scenario);

}  // namespace replsim::sim
