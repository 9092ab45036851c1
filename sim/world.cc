#include "sim/world.h"

#include <cstdio>

#include "engine/assert.h"

namespace replsim::sim {

namespace {

// The innermost live world, for the assertion hook (worlds nest only in tests).
SimWorld* g_world = nullptr;

void world_assert_hook(const char* expr, const char* file, int line, const char* message) {
  if (g_world == nullptr) return;
  std::fprintf(stderr, "seed=%llu at virtual time %lldus\nreproduce: %s\n",
               static_cast<unsigned long long>(g_world->seed()),
               static_cast<long long>(g_world->now()), g_world->repro_command().c_str());
}

std::string node_target(NodeId id) { return "node " + std::to_string(id.value); }

}  // namespace

SimWorld::SimWorld(WorldOptions options)
    : options_(std::move(options)), root_(options_.seed), world_random_(root_.child("world")) {
  loop_.set_event_limit(options_.events_max);
  trace_.keep_events(options_.keep_events);
  network_ = std::make_unique<Network>(loop_, root_.child("network"), &faults_, &trace_);
  buggify_ = std::make_unique<Buggify>(options_.seed, root_.child("buggify"), options_.buggify);
  previous_world_ = g_world;
  g_world = this;
  previous_hook_ = set_assert_hook(&world_assert_hook);
}

SimWorld::~SimWorld() {
  for (auto& [id, n] : nodes_) {
    n.process.reset();  // before its Env, which it may still use while it goes
    n.env.reset();
  }
  set_assert_hook(previous_hook_);
  g_world = previous_world_;
}

std::string SimWorld::repro_command() const {
  std::string out = options_.repro_command;
  const std::string seed = std::to_string(options_.seed);
  for (size_t at = out.find("{seed}"); at != std::string::npos; at = out.find("{seed}", at)) {
    out.replace(at, 6, seed);
    at += seed.size();
  }
  return out;
}

void SimWorld::record(NodeId id, const char* kind, std::string detail) {
  faults_.record(loop_.now(), kind, node_target(id), std::move(detail));
  trace_.record(loop_.now(), id.value, kind, 0);
}

// --- disks ---

SimDisk& SimWorld::add_disk(const std::string& name, DiskOptions options) {
  REPLSIM_ASSERT_MSG(disks_.count(name) == 0, "disk added twice");
  auto disk = std::make_unique<SimDisk>(loop_, root_.child("disk/" + name), name, options, &faults_,
                                        &trace_);
  SimDisk& ref = *disk;
  disks_.emplace(name, std::move(disk));
  return ref;
}

SimDisk& SimWorld::disk(const std::string& name) {
  auto it = disks_.find(name);
  REPLSIM_ASSERT_MSG(it != disks_.end(), "no such disk");
  return *it->second;
}

// --- nodes ---

SimWorld::Node& SimWorld::node(NodeId id) {
  auto it = nodes_.find(id);
  REPLSIM_ASSERT_MSG(it != nodes_.end(), "no such node");
  return it->second;
}

const SimWorld::Node& SimWorld::node(NodeId id) const {
  auto it = nodes_.find(id);
  REPLSIM_ASSERT_MSG(it != nodes_.end(), "no such node");
  return it->second;
}

void SimWorld::add_node(NodeId id, const std::string& disk_name, BootFn boot) {
  ClockModel clock;
  if (options_.random_clocks) {
    Prng prng = root_.child("clock/" + std::to_string(id.value));
    clock.offset_us = prng.uniform_range(0, options_.clock_offset_max_us);
    clock.drift_ppm = (prng.uniform_double() * 2.0 - 1.0) * options_.clock_drift_max_ppm;
  }
  add_node(id, disk_name, clock, std::move(boot));
}

void SimWorld::add_node(NodeId id, const std::string& disk_name, ClockModel clock, BootFn boot) {
  REPLSIM_ASSERT_MSG(nodes_.count(id) == 0, "node added twice");
  REPLSIM_ASSERT(boot != nullptr);
  if (!disk_name.empty()) disk(disk_name);  // asserts that it exists
  Node& n = nodes_[id];
  n.id = id;
  n.disk_name = disk_name;
  n.boot = std::move(boot);
  n.clock = std::make_unique<NodeClock>(clock.offset_us, clock.drift_ppm);
  network_->set_endpoint(
      id, [this, id](NodeId from, std::string payload) { deliver(id, from, std::move(payload)); });
  boot_node(n);
}

void SimWorld::deliver(NodeId id, NodeId from, std::string payload) {
  Node& to = node(id);
  REPLSIM_ASSERT(to.env != nullptr);  // the network only delivers to nodes that are up
  if (to.cpu == nullptr) return to.env->deliver(from, std::move(payload));
  const TimeUs service_us = to.service_us(payload);
  const uint64_t incarnation = to.incarnation;
  const bool queued = to.cpu->submit(
      service_us, [this, id, from, incarnation, payload = std::move(payload)]() mutable {
        Node& n = node(id);
        // The incarnation that received it may have crashed while it waited for a core.
        if (n.env != nullptr && n.incarnation == incarnation)
          n.env->deliver(from, std::move(payload));
      });
  if (!queued) trace_.record(loop_.now(), id.value, "cpu_refused", from.value);
}

void SimWorld::set_cpu(NodeId id, CpuOptions options, ServiceTimeFn service_us) {
  REPLSIM_ASSERT(service_us != nullptr);
  Node& n = node(id);
  n.cpu = std::make_unique<SimCpu>(loop_, options);
  n.service_us = std::move(service_us);
}

const SimCpu* SimWorld::cpu(NodeId id) const { return node(id).cpu.get(); }

void SimWorld::boot_node(Node& n) {
  REPLSIM_ASSERT(n.env == nullptr);
  ++n.incarnation;
  SimEnvDeps deps;
  deps.loop = &loop_;
  deps.network = network_.get();
  deps.buggify = buggify_.get();
  deps.trace = &trace_;
  deps.clock = n.clock.get();
  deps.disk = n.disk_name.empty() ? nullptr : &disk(n.disk_name);
  const std::string stream =
      "node/" + std::to_string(n.id.value) + "/" + std::to_string(n.incarnation);
  n.env = std::make_unique<SimEnv>(n.id, n.incarnation, deps, root_.child(stream));
  network_->set_up(n.id, true);
  trace_.record(loop_.now(), n.id.value, "boot", n.incarnation);
  n.process = n.boot(*n.env);
  REPLSIM_ASSERT_MSG(n.process != nullptr, "boot returned no process");
}

std::vector<NodeId> SimWorld::nodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool SimWorld::up(NodeId id) const { return node(id).env != nullptr; }

bool SimWorld::paused(NodeId id) const {
  const Node& n = node(id);
  return n.env != nullptr && n.env->paused();
}

uint64_t SimWorld::incarnation(NodeId id) const { return node(id).incarnation; }
Process* SimWorld::process(NodeId id) { return node(id).process.get(); }
SimEnv* SimWorld::env(NodeId id) { return node(id).env.get(); }
const NodeClock& SimWorld::clock(NodeId id) const { return *node(id).clock; }
TimeUs SimWorld::node_now_us(NodeId id) const { return node(id).clock->now_us(loop_.now()); }

// --- process and clock faults ---

void SimWorld::crash(NodeId id) {
  Node& n = node(id);
  REPLSIM_ASSERT_MSG(n.env != nullptr, "crash of a node that is down");
  REPLSIM_ASSERT_MSG(!n.env->in_callback(), "crash from inside the node's own callback");
  record(id, "crash", "incarnation " + std::to_string(n.incarnation));
  network_->set_up(id, false);
  n.process.reset();
  n.env.reset();  // expires the alive token, cancels timers and held callbacks
}

void SimWorld::restart(NodeId id) {
  Node& n = node(id);
  REPLSIM_ASSERT_MSG(n.env == nullptr, "restart of a node that is up");
  record(id, "restart", "incarnation " + std::to_string(n.incarnation + 1));
  boot_node(n);
}

void SimWorld::pause(NodeId id) {
  Node& n = node(id);
  REPLSIM_ASSERT_MSG(n.env != nullptr, "pause of a node that is down");
  record(id, "pause");
  n.env->pause();
}

void SimWorld::resume(NodeId id) {
  Node& n = node(id);
  REPLSIM_ASSERT_MSG(n.env != nullptr, "resume of a node that is down");
  record(id, "resume", std::to_string(n.env->held()) + " callbacks held");
  n.env->resume();
}

void SimWorld::power_loss(const std::string& disk_name) {
  SimDisk& d = disk(disk_name);  // records the "power_loss" fault itself
  trace_.record(loop_.now(), kWorldTraceNode, "power_loss", fnv1a64(disk_name));
  for (auto& [id, n] : nodes_) {
    if (n.disk_name == disk_name && n.env != nullptr) crash(id);
  }
  d.power_loss();
}

void SimWorld::bump_clock(NodeId id, TimeUs delta_us) {
  record(id, "clock_bump", "delta_us=" + std::to_string(delta_us));
  node(id).clock->bump(delta_us);
}

// --- determinism ---

DeterminismReport run_twice(WorldOptions options, const std::function<void(SimWorld&)>& scenario) {
  options.keep_events = true;
  SimWorld first(options);
  scenario(first);
  SimWorld second(options);
  scenario(second);
  DeterminismReport report;
  report.hash_first = first.trace().hash();
  report.hash_second = second.trace().hash();
  report.events_first = first.trace().count();
  report.events_second = second.trace().count();
  report.identical = report.hash_first == report.hash_second;
  report.divergence = divergence_report(first.trace().events(), second.trace().events());
  return report;
}

}  // namespace replsim::sim
