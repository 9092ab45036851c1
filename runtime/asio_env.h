// runtime/asio_env.h — the real-world Env: Boost.Asio timers and TCP, POSIX files, a CSPRNG.
//
// One AsioEnv is one node's view of the world, driven by a boost::asio::io_context that the
// caller runs on ONE thread: every engine callback (timers, messages, I/O completions) runs
// there, never concurrently and never inside the call that registered it. Several AsioEnvs may
// share one io_context (tests run a whole deployment on one thread).
//
// - now_us(): microseconds since the Unix epoch, read once from the system clock when the env
//   starts and advanced by std::chrono::steady_clock afterwards, so it never goes backwards
//   within a process and is roughly comparable across processes and restarts (persisted TTLs
//   such as activation-token expiry stay meaningful). Nodes' clocks disagree by NTP error.
// - schedule/cancel: one steady_timer per pending timer.
// - send/set_receiver: runtime/transport.h (framed TCP, static peer table, best effort).
// - fs(): runtime/posix_fs.h over options.data_dir.
// - random(): OpenSSL RAND_bytes (a CSPRNG): secrets and tokens come from it.
// - buggify(): always false.
// Lifetime: destroying the AsioEnv cancels its timers, closes its connections and drops every
// queued completion; none of its callbacks runs afterwards (like a crashed process in sim).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "engine/env.h"
#include "runtime/posix_fs.h"
#include "runtime/transport.h"

namespace replsim::runtime {

struct AsioEnvOptions {
  TransportOptions transport;  // transport.self is this node's id
  std::string data_dir;        // empty: no file system (a client); fs() must not be called
};

// Random::next_u64 from OpenSSL's CSPRNG, fetched in blocks.
class CsprngRandom : public Random {
 public:
  uint64_t next_u64() override;

 private:
  static constexpr size_t kBlockWords = 64;
  uint64_t block_[kBlockWords] = {};
  size_t next_ = kBlockWords;
};

class AsioEnv final : public Env {
 public:
  // Creates the data directory if needed and starts listening.
  static Result<std::unique_ptr<AsioEnv>> create(boost::asio::io_context& io,
                                                 AsioEnvOptions options);
  ~AsioEnv() override;
  AsioEnv(const AsioEnv&) = delete;
  AsioEnv& operator=(const AsioEnv&) = delete;

  NodeId self() const override { return options_.transport.self; }
  TimeUs now_us() const override;
  TimerId schedule(TimeUs delay_us, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void send(NodeId to, std::string payload) override;
  void set_receiver(std::function<void(NodeId from, std::string payload)> fn) override;
  FileSystem& fs() override;
  Random& random() override { return random_; }
  bool buggify(std::string_view site) override { return false; }

  // The bound TCP port (useful with an ephemeral listen_port of 0).
  uint16_t listen_port() const { return transport_.listen_port(); }
  void set_peer(NodeId id, PeerAddress address) { transport_.set_peer(id, std::move(address)); }
  const TransportCounters& transport_counters() const { return transport_.counters(); }
  size_t pending_timers() const { return timers_.size(); }
  boost::asio::io_context& io() { return io_; }
  // Runs `fn` later on the io_context thread unless this env is destroyed first.
  void post(std::function<void()> fn);

 private:
  AsioEnv(boost::asio::io_context& io, AsioEnvOptions options);

  boost::asio::io_context& io_;
  AsioEnvOptions options_;
  Transport transport_;
  std::unique_ptr<PosixFileSystem> fs_;
  CsprngRandom random_;
  TimeUs start_wall_us_ = 0;
  std::chrono::steady_clock::time_point start_steady_;
  TimerId next_timer_id_ = kNoTimer;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
  std::shared_ptr<int> alive_;  // handlers hold a weak_ptr: expired → the env is gone
};

}  // namespace replsim::runtime
