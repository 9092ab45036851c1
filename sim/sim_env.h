// SimEnv: what one incarnation of a simulated node sees of the world (engine/env.h).
//
// Contract:
// - now_us() is the node's own clock (NodeClock): global virtual time plus the node's offset
//   and drift, never going backwards (a backward bump stalls it until it catches up).
// - schedule(delay) measures `delay` on the node's oscillator: a node whose clock runs fast
//   (drift > 0) fires its timers early in global time. Later bumps do not move pending timers
//   (like CLOCK_MONOTONIC).
// - Every callback into the process — timer, message delivery, I/O completion — goes through
//   one gate. While the node is paused (stop-the-world) the gate holds them, in the order they
//   came due, and resume() runs them in that order before anything newer.
// - One SimEnv per incarnation. Destroying it (crash) expires its alive token and cancels its
//   timers and held callbacks: nothing of the old incarnation runs afterwards, while what it
//   wrote stays in the disk's page cache.
// - random() is a PRNG stream derived from (seed, node, incarnation): stable across runs and
//   never repeated by a restart (nonces stay unique).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/env.h"
#include "sim/buggify.h"
#include "sim/event_loop.h"
#include "sim/network.h"
#include "sim/prng.h"
#include "sim/trace.h"

namespace replsim::sim {

class SimDisk;

// A host's clock: local(g) = g + offset_us + floor(g * drift_ppm / 1e6), made monotonic.
class NodeClock {
 public:
  static constexpr double kDriftPpmLimit = 100000.0;  // sanity bound: 10 %

  NodeClock(TimeUs offset_us, double drift_ppm);

  // The clock's reading at global time `global_us` (monotonic across calls).
  TimeUs now_us(TimeUs global_us) const;
  // Global time to wait from `global_now_us` for `delay_us` to pass on this clock's
  // oscillator (ignores offset and bumps). Minimal such value; 0 for delay_us <= 0.
  TimeUs global_delay_us(TimeUs global_now_us, TimeUs delay_us) const;
  // Moves the offset by `delta_us` (a clock bump; backwards stalls now_us()).
  void bump(TimeUs delta_us) { offset_us_ += delta_us; }

  TimeUs offset_us() const { return offset_us_; }
  double drift_ppm() const { return drift_ppm_; }

 private:
  TimeUs raw_us(TimeUs global_us) const;

  TimeUs offset_us_;
  double drift_ppm_;
  mutable TimeUs last_us_ = INT64_MIN;
};

// Shared world services a SimEnv uses; all outlive every SimEnv.
struct SimEnvDeps {
  EventLoop* loop = nullptr;
  Network* network = nullptr;
  Buggify* buggify = nullptr;
  Trace* trace = nullptr;
  NodeClock* clock = nullptr;
  SimDisk* disk = nullptr;  // nullptr: the node has no disk (fs() asserts)
};

class SimEnv final : public Env {
 public:
  SimEnv(NodeId self, uint64_t incarnation, SimEnvDeps deps, Prng random);
  ~SimEnv() override;
  SimEnv(const SimEnv&) = delete;
  SimEnv& operator=(const SimEnv&) = delete;

  // --- Env ---
  NodeId self() const override { return self_; }
  TimeUs now_us() const override;
  TimerId schedule(TimeUs delay_us, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void send(NodeId to, std::string payload) override;
  void set_receiver(std::function<void(NodeId from, std::string payload)> fn) override;
  FileSystem& fs() override;
  Random& random() override { return random_; }
  bool buggify(std::string_view site) override;

  // --- the world's side ---
  // A message arriving from the network (through the gate).
  void deliver(NodeId from, std::string payload);
  void pause();
  // Runs everything held, in order, from a fresh event at the current time.
  void resume();
  bool paused() const { return paused_; }
  // True while one of this node's callbacks runs (a crash must not come from inside one).
  bool in_callback() const { return callback_depth_ > 0; }
  uint64_t incarnation() const { return incarnation_; }
  size_t pending_timers() const { return timers_.size(); }
  size_t held() const { return held_.size(); }

  // Runs `fn` now, or holds it while paused. `timer` names a timer (0 for other callbacks).
  void dispatch(TimerId timer, std::function<void()> fn);
  std::weak_ptr<void> alive() const { return alive_; }

 private:
  struct PendingTimer {
    EventId event = 0;  // 0 while held by a pause
    std::function<void()> fn;
  };
  struct Held {
    TimerId timer = kNoTimer;
    std::function<void()> fn;  // empty for timers (their fn stays in timers_)
  };
  void fire_timer(TimerId id);
  void run_timer(TimerId id);
  void run_callback(const std::function<void()>& fn);
  void drain_held();

  NodeId self_;
  uint64_t incarnation_;
  SimEnvDeps deps_;
  Prng random_;
  std::shared_ptr<int> alive_;
  std::unique_ptr<FileSystem> fs_;
  std::function<void(NodeId, std::string)> receiver_;
  std::map<TimerId, PendingTimer> timers_;
  TimerId next_timer_ = 1;
  std::deque<Held> held_;
  EventId drain_event_ = 0;
  bool paused_ = false;
  int callback_depth_ = 0;
};

}  // namespace replsim::sim
