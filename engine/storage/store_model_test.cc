// RapidCheck stateful test of the Store against a std::map model.
//
// Commands: single puts and deletes, multi-key commits (also on local paths), advancing
// virtual time, process crash, power loss (random torn/unsynced choices), clean reopen,
// compaction, an fsync failure and a full disk. Outcomes the disk decides (which unsynced
// transactions survive) are not known in advance, so the harness (the SUT side) keeps the
// reference model: the state at the last recovery plus the transactions submitted since.
// Checked: callbacks arrive in submission order; while running, the store equals the model
// after exactly the acknowledged transactions; after every recovery, it equals the model after
// some prefix of the submitted ones that holds every acknowledged one (whole transactions only,
// refused ones skipped).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <map>

#include "engine/storage/store.h"
#include "engine/storage/store_test_util.h"

namespace replsim {
namespace {

using testing::StoreRig;
using KvModel = std::map<std::string, std::string, std::less<>>;

enum class Fate { kPending, kAcked, kRefused, kMaybe };

struct Harness {
  Harness() : rig(sim::DiskOptions{}, StoreOptions{}, 42) { rig.open(); }

  void submit(const Transaction& t) {
    const size_t i = inflight.size();
    inflight.push_back({t, Fate::kPending});
    rig.store->commit(t, [this, i](Result<CommitInfo> r) {
      RC_ASSERT(i == next_callback);
      ++next_callback;
      if (r.is_ok()) {
        RC_ASSERT(!saw_failure);  // a failed store acknowledges nothing more
        inflight[i].fate = Fate::kAcked;
      } else if (r.status().code() == StatusCode::kNoSpace) {
        inflight[i].fate = Fate::kRefused;  // nothing was written
      } else {
        RC_ASSERT(r.status().code() == StatusCode::kIoError);
        saw_failure = true;
        inflight[i].fate = Fate::kMaybe;  // its bytes may still be in the page cache
      }
    });
  }

  static void apply(KvModel* m, const Transaction& t) {
    for (const Mutation& mu : t.mutations) {
      if (mu.deleted) {
        m->erase(mu.path);
      } else {
        (*m)[mu.path] = mu.value;
      }
    }
  }

  // While running: exactly the acknowledged transactions are visible.
  void check_live() const {
    KvModel m = base;
    for (const auto& e : inflight) {
      if (e.fate == Fate::kAcked) apply(&m, e.txn);
    }
    RC_ASSERT(rig.store->contents() == m);
  }

  // After a crash or power loss: some prefix holding every acknowledged transaction.
  void recover() {
    rig.crash();
    Status st = rig.try_open();
    // A failed fsync while sealing the recovered state fails the open; restart again.
    for (int attempt = 0; attempt < 64 && st.code() == StatusCode::kIoError; ++attempt) {
      rig.crash();
      st = rig.try_open();
    }
    RC_ASSERT(st.is_ok());
    size_t min_prefix = 0;
    for (size_t i = 0; i < inflight.size(); ++i) {
      if (inflight[i].fate == Fate::kAcked) min_prefix = i + 1;
    }
    KvModel m = base;
    bool found = false;
    for (size_t p = 0; p <= inflight.size() && !found; ++p) {
      if (p > 0 && inflight[p - 1].fate != Fate::kRefused) apply(&m, inflight[p - 1].txn);
      found = p >= min_prefix && rig.store->contents() == m;
    }
    RC_ASSERT(found);
    base = rig.store->contents();
    inflight.clear();
    next_callback = 0;
    saw_failure = false;
    ++recoveries;
  }

  void settle() {
    rig.loop.run_while([&] { return rig.store->pending() > 0; });
  }

  struct Entry {
    Transaction txn;
    Fate fate;
  };
  StoreRig rig;
  KvModel base;
  std::vector<Entry> inflight;
  size_t next_callback = 0;
  bool saw_failure = false;
  uint64_t recoveries = 0;
};

struct RcModel {};  // generation needs no state; the reference model lives in the Harness
using Cmd = rc::state::Command<RcModel, Harness>;

rc::Gen<std::string> gen_path() {
  return rc::gen::element<std::string>("k0", "k1", "k2", "k3", "dir/k4", "dir/k5", "sys/token/t",
                                       "sys/lease/l");
}

struct Commit : Cmd {
  Transaction txn;
  Commit() {
    const int n = *rc::gen::inRange(1, 5);
    for (int i = 0; i < n; ++i) {
      std::string path = *gen_path();
      if (*rc::gen::inRange(0, 4) == 0) {
        txn.del(std::move(path));
      } else {
        txn.put(std::move(path), *rc::gen::container<std::string>(*rc::gen::inRange(0, 600),
                                                                  rc::gen::inRange('a', 'z')));
      }
    }
  }
  void run(const RcModel&, Harness& h) const override { h.submit(txn); }
  void show(std::ostream& os) const override { os << "Commit(" << txn.mutations.size() << ")"; }
};

struct Advance : Cmd {
  TimeUs us = *rc::gen::element<TimeUs>(0, 5, 200, 1000, 3000);
  void run(const RcModel&, Harness& h) const override {
    h.rig.loop.run_until(h.rig.loop.now() + us);
    h.check_live();
  }
  void show(std::ostream& os) const override { os << "Advance(" << us << ")"; }
};

struct Crash : Cmd {
  void run(const RcModel&, Harness& h) const override { h.recover(); }
  void show(std::ostream& os) const override { os << "Crash"; }
};

struct PowerLoss : Cmd {
  void run(const RcModel&, Harness& h) const override {
    h.rig.disk.power_loss();
    h.recover();
  }
  void show(std::ostream& os) const override { os << "PowerLoss"; }
};

struct Reopen : Cmd {
  void run(const RcModel&, Harness& h) const override {
    h.settle();
    h.check_live();
    const KvModel before = h.rig.store->contents();
    const bool failed = h.rig.store->failed();
    h.recover();
    if (!failed) RC_ASSERT(h.rig.store->contents() == before);
  }
  void show(std::ostream& os) const override { os << "Reopen"; }
};

struct Compact : Cmd {
  void run(const RcModel&, Harness& h) const override {
    h.rig.store->compact([](Status s) {
      RC_ASSERT(s.is_ok() || s.code() == StatusCode::kUnavailable ||
                s.code() == StatusCode::kNoSpace || s.code() == StatusCode::kIoError);
    });
  }
  void show(std::ostream& os) const override { os << "Compact"; }
};

struct FailNextSync : Cmd {
  void run(const RcModel&, Harness& h) const override { h.rig.disk.fail_next_syncs(1); }
  void show(std::ostream& os) const override { os << "FailNextSync"; }
};

struct FillDisk : Cmd {
  bool full = *rc::gen::arbitrary<bool>();
  void run(const RcModel&, Harness& h) const override {
    h.rig.disk.set_capacity(full ? h.rig.disk.used_bytes() + 300 : UINT64_MAX);
  }
  void show(std::ostream& os) const override { os << "FillDisk(" << full << ")"; }
};

RC_GTEST_PROP(StoreModel, RecoveredStateIsAPrefixHoldingEveryAck, ()) {
  Harness h;
  rc::state::check(RcModel{}, h,
                   rc::state::gen::execOneOfWithArgs<Commit, Commit, Commit, Commit, Advance,
                                                     Advance, Advance, Crash, PowerLoss, Reopen,
                                                     Compact, FailNextSync, FillDisk>());
  h.rig.disk.set_capacity(UINT64_MAX);
  h.settle();
  h.recover();
  RC_TAG(h.recoveries > 3 ? "many recoveries" : "few recoveries");
}

}  // namespace
}  // namespace replsim
