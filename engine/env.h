// engine/env.h — the one seam between the replication engine and the world.
//
// The engine takes time, timers, messages, files and randomness only through these interfaces.
// sim/ implements them deterministically (virtual time, fault-injecting network and disks);
// runtime/ implements them with Boost.Asio, TCP and the real file system. Engine code is
// single-threaded and event-driven: every callback runs on the Env's one loop, never
// concurrently, and never from inside the call that registered it (no re-entrancy).
//
// Operations that take time on real hardware — write, append, sync, directory sync — complete
// through a callback, so latency is real to the engine. Reads, size, truncate, rename, remove
// and list act on the OS page cache and return at once.
//
// Lifetime: when a node's process crashes or stops, the Env drops every pending timer, message
// delivery and I/O callback of that process; none fires afterwards. Callbacks may therefore
// capture `this` of objects owned by the node.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace replsim {

using IoCallback = std::function<void(Status)>;

// A seeded random source. Only next_u64 is virtual; the helpers derive from it so every
// implementation gives the same sequence of draws for the same stream of u64s.
class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next_u64() = 0;

  // Uniform in [0, n). REQUIRES: n > 0. Unbiased (rejection sampling).
  uint64_t uniform(uint64_t n);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t uniform_range(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 bits.
  double uniform_double();
  bool bernoulli(double p);
  // Fills `out` with `n` random bytes (nonces, keys, tokens).
  void fill_bytes(size_t n, std::string* out);
};

// An open file. Writes enter the page cache when issued (visible at once to read() and
// size()); their callback fires when the device has taken them. Durability needs sync().
class File {
 public:
  virtual ~File() = default;

  // Reads up to `n` bytes at `offset` into `out` (short at end of file).
  // A latent sector error or detected media fault returns kIoError.
  virtual Status read(uint64_t offset, size_t n, std::string* out) = 0;
  // Writes `data` at `offset`, extending the file if needed. Disk full → kNoSpace, nothing
  // written.
  virtual void write(uint64_t offset, std::string data, IoCallback done) = 0;
  // Writes at the current end of file (the end includes earlier pending writes).
  virtual void append(std::string data, IoCallback done) = 0;
  // Makes every write issued before this call durable. On failure (kIoError) the writes that
  // were not yet durable are lost for good: a later sync does not bring them back.
  virtual void sync(IoCallback done) = 0;
  // Sets the size; durable like a write (needs sync()).
  virtual Status truncate(uint64_t size) = 0;
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// The files of one node (in simulation: of the disk that node's host or cluster uses).
// Paths are flat names such as "store/data.log"; there is one directory per FileSystem.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens `path`, creating an empty file when `create` is true and it is missing.
  // A new file's name is durable only after sync_dir().
  virtual Result<std::unique_ptr<File>> open(const std::string& path, bool create) = 0;
  virtual bool exists(const std::string& path) const = 0;
  virtual Status remove(const std::string& path) = 0;
  // Atomically replaces `to` with `from` in the page cache; durable only after sync_dir().
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Makes creations, removals and renames issued before this call durable.
  virtual void sync_dir(IoCallback done) = 0;
  // Names beginning with `prefix`, sorted.
  virtual std::vector<std::string> list(const std::string& prefix) const = 0;
};

using TimerId = uint64_t;
constexpr TimerId kNoTimer = 0;

// Everything one node sees of the world.
class Env {
 public:
  virtual ~Env() = default;

  virtual NodeId self() const = 0;

  // This node's clock, in microseconds. In simulation it has the node's offset and drift, so
  // two nodes disagree; leases, TTLs and the read-after-write stall read it.
  virtual TimeUs now_us() const = 0;
  // Runs `fn` once after `delay_us` of this node's clock. Returns an id for cancel().
  virtual TimerId schedule(TimeUs delay_us, std::function<void()> fn) = 0;
  // Cancels a pending timer; a no-op when it has fired or was cancelled.
  virtual void cancel(TimerId id) = 0;

  // Sends an opaque message (serialized protobuf) to `to`. Best effort: it may be delayed,
  // dropped, duplicated or reordered; nothing reports its fate.
  virtual void send(NodeId to, std::string payload) = 0;
  // Installs the handler for messages arriving at this node (one handler; replaces any).
  virtual void set_receiver(std::function<void(NodeId from, std::string payload)> fn) = 0;

  virtual FileSystem& fs() = 0;
  virtual Random& random() = 0;

  // BUGGIFY: true when the run forces the rare path at `site`. Each site is enabled or not
  // once per run from the seed, then fires per call with a fixed probability. Always false
  // outside simulation.
  virtual bool buggify(std::string_view site) = 0;
};

}  // namespace replsim
