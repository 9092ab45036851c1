#include "runtime/asio_env.h"

#include <openssl/rand.h>

#include <boost/asio/post.hpp>

namespace replsim::runtime {

namespace asio = boost::asio;

uint64_t CsprngRandom::next_u64() {
  if (next_ == kBlockWords) {
    // RAND_bytes fails only when the OS cannot seed OpenSSL: no safe way to go on.
    REPLSIM_ASSERT_MSG(RAND_bytes(reinterpret_cast<unsigned char*>(block_), sizeof(block_)) == 1,
                       "OpenSSL RAND_bytes failed");
    next_ = 0;
  }
  return block_[next_++];
}

AsioEnv::AsioEnv(asio::io_context& io, AsioEnvOptions options)
    : io_(io),
      options_(std::move(options)),
      transport_(io, options_.transport),
      alive_(std::make_shared<int>(0)) {
  start_wall_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  start_steady_ = std::chrono::steady_clock::now();
}

Result<std::unique_ptr<AsioEnv>> AsioEnv::create(asio::io_context& io, AsioEnvOptions options) {
  std::unique_ptr<AsioEnv> env(new AsioEnv(io, std::move(options)));
  if (!env->options_.data_dir.empty()) {
    REPLSIM_RETURN_IF_ERROR(PosixFileSystem::create_directory(env->options_.data_dir));
    AsioEnv* raw = env.get();
    env->fs_ = std::make_unique<PosixFileSystem>(
        env->options_.data_dir, [raw](std::function<void()> fn) { raw->post(std::move(fn)); });
  }
  REPLSIM_RETURN_IF_ERROR(env->transport_.start());
  return env;
}

AsioEnv::~AsioEnv() {
  alive_.reset();
  timers_.clear();  // destroying a timer cancels its wait; the handler sees alive_ expired
}

TimeUs AsioEnv::now_us() const {
  const auto elapsed = std::chrono::steady_clock::now() - start_steady_;
  return start_wall_us_ + std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
}

TimerId AsioEnv::schedule(TimeUs delay_us, std::function<void()> fn) {
  const TimerId id = ++next_timer_id_;
  auto timer = std::make_unique<asio::steady_timer>(io_);
  timer->expires_after(std::chrono::microseconds(delay_us < 0 ? 0 : delay_us));
  std::weak_ptr<int> alive = alive_;
  timer->async_wait([this, alive, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (alive.expired() || ec) return;
    auto it = timers_.find(id);
    if (it == timers_.end()) return;  // cancelled after it expired but before it ran
    timers_.erase(it);
    fn();
  });
  timers_[id] = std::move(timer);
  return id;
}

void AsioEnv::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

void AsioEnv::send(NodeId to, std::string payload) { transport_.send(to, std::move(payload)); }

void AsioEnv::set_receiver(std::function<void(NodeId from, std::string payload)> fn) {
  transport_.set_receiver(std::move(fn));
}

FileSystem& AsioEnv::fs() {
  REPLSIM_ASSERT_MSG(fs_ != nullptr, "AsioEnv without a data_dir has no file system");
  return *fs_;
}

void AsioEnv::post(std::function<void()> fn) {
  std::weak_ptr<int> alive = alive_;
  asio::post(io_, [alive, fn = std::move(fn)]() {
    if (!alive.expired()) fn();
  });
}

}  // namespace replsim::runtime
