// DiskEnv: a minimal Env for one process over one EventLoop and one SimDisk — for storage,
// index and benchmark tests that need files and timers but no network or SimWorld.
//
// crash() starts a new process incarnation: every timer and I/O callback of the previous one
// is dropped (as SimEnv does), while the disk keeps its page cache. Messages go nowhere.
#pragma once

#include <memory>

#include "engine/env.h"
#include "sim/disk.h"
#include "sim/event_loop.h"
#include "sim/prng.h"

namespace replsim::sim {

class DiskEnv final : public Env {
 public:
  DiskEnv(EventLoop& loop, SimDisk& disk, uint64_t seed) : loop_(loop), disk_(disk), prng_(seed) {
    crash();
  }

  void crash() {
    alive_ = std::make_shared<int>(0);
    fs_ = disk_.attach(alive_);
  }

  NodeId self() const override { return NodeId(1); }
  TimeUs now_us() const override { return loop_.now(); }
  TimerId schedule(TimeUs delay_us, std::function<void()> fn) override {
    std::weak_ptr<int> alive = alive_;
    return loop_.after(delay_us, [alive, fn = std::move(fn)] {
      if (!alive.expired()) fn();
    });
  }
  void cancel(TimerId id) override { loop_.cancel(id); }
  void send(NodeId, std::string) override {}
  void set_receiver(std::function<void(NodeId, std::string)>) override {}
  FileSystem& fs() override { return *fs_; }
  Random& random() override { return prng_; }
  bool buggify(std::string_view) override { return false; }

 private:
  EventLoop& loop_;
  SimDisk& disk_;
  Prng prng_;
  std::shared_ptr<int> alive_;
  std::unique_ptr<FileSystem> fs_;
};

}  // namespace replsim::sim
