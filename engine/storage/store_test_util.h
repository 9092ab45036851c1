// Test-only: a Store on a SimDisk with helpers to commit and wait.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "engine/storage/store.h"
#include "sim/disk_env.h"

namespace replsim::testing {

struct StoreRig {
  explicit StoreRig(sim::DiskOptions disk_options = {}, StoreOptions store_options = {},
                    uint64_t seed = 1)
      : disk(loop, sim::Prng(seed), "disk", disk_options),
        env(loop, disk, seed + 1),
        options(std::move(store_options)) {}

  // Opens (or reopens after crash()) the store. Fails the test on error.
  // Waits until the recovered state is sealed (Store::on_ready).
  Store& open() {
    Status s = try_open();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    if (!s.is_ok()) std::abort();
    return *store;
  }
  Status try_open() {
    REPLSIM_RETURN_IF_ERROR(open_only());
    return wait_status([&](StatusCallback cb) { store->on_ready(std::move(cb)); });
  }
  // Opens without waiting for the seal (commits queue behind it).
  Status open_only() {
    store.reset();
    Result<std::unique_ptr<Store>> s = Store::open(env, options);
    if (!s.is_ok()) return s.status();
    store = std::move(*s);
    return Status::ok();
  }
  // Process crash: the Store and its pending callbacks vanish; the page cache stays.
  void crash() {
    store.reset();
    env.crash();
  }

  Result<CommitInfo> commit(Transaction txn) {
    std::optional<Result<CommitInfo>> result;
    store->commit(std::move(txn), [&](Result<CommitInfo> r) { result.emplace(std::move(r)); });
    loop.run_while([&] { return !result.has_value(); });
    EXPECT_TRUE(result.has_value());
    return result.has_value() ? std::move(*result) : Result<CommitInfo>(Status::aborted("hung"));
  }
  Result<CommitInfo> put(std::string path, std::string value) {
    Transaction t;
    t.put(std::move(path), std::move(value));
    return commit(std::move(t));
  }
  Status wait_status(const std::function<void(StatusCallback)>& op) {
    std::optional<Status> result;
    op([&](Status s) { result.emplace(std::move(s)); });
    loop.run_while([&] { return !result.has_value(); });
    return result.value_or(Status::aborted("hung"));
  }
  Status compact() {
    return wait_status([&](StatusCallback cb) { store->compact(std::move(cb)); });
  }

  sim::EventLoop loop;
  sim::SimDisk disk;
  sim::DiskEnv env;
  StoreOptions options;
  std::unique_ptr<Store> store;
};

}  // namespace replsim::testing
