// engine/cluster/fenced_fs.h — storage fencing by HA lock generation.
//
// Contract: FencedEnv wraps a node's Env; its fs() returns a FileSystem whose every mutating
// operation (write, append, truncate, rename, remove, creating open) first calls `allowed()`
// — which re-reads the HA lock record from the page cache — and is refused with kFenced when
// it returns false (writes and appends report kFenced through their callback, later, never
// re-entrantly). Reads, size, sync and sync_dir pass through: they change no data. Since the
// simulated event loop runs one callback at a time, the check and the write it guards are
// atomic. Everything else of the Env is forwarded unchanged.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/env.h"

namespace replsim::cluster {

class FencedFileSystem : public FileSystem {
 public:
  // `allowed` is asked before every mutation; `refused` counts refusals (may be null).
  FencedFileSystem(Env& env, FileSystem& base, std::function<bool()> allowed, uint64_t* refused);

  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override;
  bool exists(const std::string& path) const override { return base_.exists(path); }
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  void sync_dir(IoCallback done) override { base_.sync_dir(std::move(done)); }
  std::vector<std::string> list(const std::string& prefix) const override {
    return base_.list(prefix);
  }

  // Shared by the files: true when a mutation may proceed (counts a refusal otherwise).
  bool check();
  Env& env() { return env_; }

 private:
  Env& env_;
  FileSystem& base_;
  std::function<bool()> allowed_;
  uint64_t* refused_;
};

class FencedEnv : public Env {
 public:
  FencedEnv(Env& base, std::function<bool()> allowed, uint64_t* refused);

  NodeId self() const override { return base_.self(); }
  TimeUs now_us() const override { return base_.now_us(); }
  TimerId schedule(TimeUs delay_us, std::function<void()> fn) override {
    return base_.schedule(delay_us, std::move(fn));
  }
  void cancel(TimerId id) override { base_.cancel(id); }
  void send(NodeId to, std::string payload) override { base_.send(to, std::move(payload)); }
  void set_receiver(std::function<void(NodeId, std::string)> fn) override {
    base_.set_receiver(std::move(fn));
  }
  FileSystem& fs() override { return fs_; }
  Random& random() override { return base_.random(); }
  bool buggify(std::string_view site) override { return base_.buggify(site); }

 private:
  Env& base_;
  FencedFileSystem fs_;
};

}  // namespace replsim::cluster
