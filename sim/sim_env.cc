#include "sim/sim_env.h"

#include <cmath>

#include "engine/assert.h"
#include "sim/disk.h"

namespace replsim::sim {

// --- NodeClock ---

NodeClock::NodeClock(TimeUs offset_us, double drift_ppm)
    : offset_us_(offset_us), drift_ppm_(drift_ppm) {
  REPLSIM_ASSERT(std::fabs(drift_ppm) < kDriftPpmLimit);
}

TimeUs NodeClock::raw_us(TimeUs global_us) const {
  const double drift = std::floor(static_cast<double>(global_us) * drift_ppm_ * 1e-6);
  return global_us + static_cast<TimeUs>(drift);
}

TimeUs NodeClock::now_us(TimeUs global_us) const {
  const TimeUs reading = raw_us(global_us) + offset_us_;
  if (reading > last_us_) last_us_ = reading;
  return last_us_;
}

TimeUs NodeClock::global_delay_us(TimeUs global_now_us, TimeUs delay_us) const {
  if (delay_us <= 0) return 0;
  const TimeUs start = raw_us(global_now_us);
  auto elapsed = [&](TimeUs g) { return raw_us(global_now_us + g) - start; };
  TimeUs g =
      static_cast<TimeUs>(std::ceil(static_cast<double>(delay_us) / (1.0 + drift_ppm_ * 1e-6)));
  if (g < 0) g = 0;
  while (elapsed(g) < delay_us) ++g;
  while (g > 0 && elapsed(g - 1) >= delay_us) --g;
  return g;
}

// --- The I/O gate: wraps the disk's FileSystem so completions pass through dispatch() ---

namespace {

IoCallback gate(SimEnv* env, IoCallback done) {
  return [env, alive = env->alive(), done = std::move(done)](Status status) mutable {
    if (alive.expired()) return;  // the incarnation that asked is gone
    env->dispatch(kNoTimer, [done = std::move(done), status] { done(status); });
  };
}

class GatedFile final : public File {
 public:
  GatedFile(SimEnv* env, std::unique_ptr<File> inner) : env_(env), inner_(std::move(inner)) {}
  Status read(uint64_t offset, size_t n, std::string* out) override {
    return inner_->read(offset, n, out);
  }
  void write(uint64_t offset, std::string data, IoCallback done) override {
    inner_->write(offset, std::move(data), gate(env_, std::move(done)));
  }
  void append(std::string data, IoCallback done) override {
    inner_->append(std::move(data), gate(env_, std::move(done)));
  }
  void sync(IoCallback done) override { inner_->sync(gate(env_, std::move(done))); }
  Status truncate(uint64_t size) override { return inner_->truncate(size); }
  uint64_t size() const override { return inner_->size(); }
  const std::string& path() const override { return inner_->path(); }

 private:
  SimEnv* env_;
  std::unique_ptr<File> inner_;
};

class GatedFileSystem final : public FileSystem {
 public:
  GatedFileSystem(SimEnv* env, std::unique_ptr<FileSystem> inner)
      : env_(env), inner_(std::move(inner)) {}
  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override {
    Result<std::unique_ptr<File>> file = inner_->open(path, create);
    if (!file.is_ok()) return file;
    return std::unique_ptr<File>(std::make_unique<GatedFile>(env_, std::move(file.value())));
  }
  bool exists(const std::string& path) const override { return inner_->exists(path); }
  Status remove(const std::string& path) override { return inner_->remove(path); }
  Status rename(const std::string& from, const std::string& to) override {
    return inner_->rename(from, to);
  }
  void sync_dir(IoCallback done) override { inner_->sync_dir(gate(env_, std::move(done))); }
  std::vector<std::string> list(const std::string& prefix) const override {
    return inner_->list(prefix);
  }

 private:
  SimEnv* env_;
  std::unique_ptr<FileSystem> inner_;
};

}  // namespace

// --- SimEnv ---

SimEnv::SimEnv(NodeId self, uint64_t incarnation, SimEnvDeps deps, Prng random)
    : self_(self),
      incarnation_(incarnation),
      deps_(deps),
      random_(random),
      alive_(std::make_shared<int>(0)) {
  REPLSIM_ASSERT(deps_.loop != nullptr);
  REPLSIM_ASSERT(deps_.network != nullptr);
  REPLSIM_ASSERT(deps_.buggify != nullptr);
  REPLSIM_ASSERT(deps_.clock != nullptr);
  if (deps_.disk != nullptr) {
    fs_ = std::make_unique<GatedFileSystem>(this, deps_.disk->attach(alive_, self_.value));
  }
}

SimEnv::~SimEnv() {
  REPLSIM_ASSERT(callback_depth_ == 0);
  alive_.reset();  // the disk drops this incarnation's I/O callbacks from now on
  for (const auto& [id, timer] : timers_) {
    if (timer.event != 0) deps_.loop->cancel(timer.event);
  }
  if (drain_event_ != 0) deps_.loop->cancel(drain_event_);
}

TimeUs SimEnv::now_us() const { return deps_.clock->now_us(deps_.loop->now()); }

TimerId SimEnv::schedule(TimeUs delay_us, std::function<void()> fn) {
  REPLSIM_ASSERT(fn != nullptr);
  const TimerId id = next_timer_++;
  const TimeUs global_delay_us = deps_.clock->global_delay_us(deps_.loop->now(), delay_us);
  const EventId event = deps_.loop->after(global_delay_us, [this, id] { fire_timer(id); });
  timers_.emplace(id, PendingTimer{event, std::move(fn)});
  return id;
}

void SimEnv::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  if (it->second.event != 0) deps_.loop->cancel(it->second.event);
  timers_.erase(it);  // a held entry for it is skipped when drained
}

void SimEnv::fire_timer(TimerId id) {
  auto it = timers_.find(id);
  REPLSIM_ASSERT(it != timers_.end());
  it->second.event = 0;
  if (paused_ || !held_.empty()) {
    held_.push_back(Held{id, nullptr});
    return;
  }
  run_timer(id);
}

void SimEnv::run_timer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;  // cancelled while held
  std::function<void()> fn = std::move(it->second.fn);
  timers_.erase(it);
  if (deps_.trace != nullptr) deps_.trace->record(deps_.loop->now(), self_.value, "timer", id);
  run_callback(fn);
}

void SimEnv::run_callback(const std::function<void()>& fn) {
  ++callback_depth_;
  fn();
  --callback_depth_;
}

void SimEnv::dispatch(TimerId timer, std::function<void()> fn) {
  REPLSIM_ASSERT(timer == kNoTimer);  // timers go through fire_timer
  if (paused_ || !held_.empty()) {
    held_.push_back(Held{kNoTimer, std::move(fn)});
    return;
  }
  run_callback(fn);
}

void SimEnv::send(NodeId to, std::string payload) {
  deps_.network->send(self_, to, std::move(payload));
}

void SimEnv::set_receiver(std::function<void(NodeId from, std::string payload)> fn) {
  receiver_ = std::move(fn);
}

void SimEnv::deliver(NodeId from, std::string payload) {
  dispatch(kNoTimer, [this, from, payload = std::move(payload)]() mutable {
    if (receiver_) receiver_(from, std::move(payload));
  });
}

FileSystem& SimEnv::fs() {
  REPLSIM_ASSERT_MSG(fs_ != nullptr, "this node has no disk");
  return *fs_;
}

bool SimEnv::buggify(std::string_view site) {
  const bool fired = deps_.buggify->fire(site);
  if (fired && deps_.trace != nullptr) {
    deps_.trace->record(deps_.loop->now(), self_.value, "buggify", fnv1a64(site));
  }
  return fired;
}

void SimEnv::pause() {
  REPLSIM_ASSERT(!paused_);
  paused_ = true;
  if (drain_event_ != 0) {
    deps_.loop->cancel(drain_event_);
    drain_event_ = 0;
  }
}

void SimEnv::resume() {
  REPLSIM_ASSERT(paused_);
  paused_ = false;
  if (!held_.empty() && drain_event_ == 0) {
    drain_event_ = deps_.loop->after(0, [this] { drain_held(); });
  }
}

void SimEnv::drain_held() {
  drain_event_ = 0;
  while (!paused_ && !held_.empty()) {
    Held next = std::move(held_.front());
    held_.pop_front();
    if (next.timer != kNoTimer) {
      run_timer(next.timer);
    } else {
      run_callback(next.fn);
    }
  }
}

}  // namespace replsim::sim
