// The ARIES log across restarts: what a scan returns after a power loss is always a prefix of
// one incarnation's log, never bytes of a lost incarnation spliced after newer records.
#include "engine/aries/log_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "sim/disk.h"
#include "sim/disk_env.h"
#include "sim/event_loop.h"
#include "sim/prng.h"

namespace replsim::aries {
namespace {

constexpr uint64_t kCommitRecordBytes = 41;  // a commit record's encoded size
// Four commit records per segment: the fifth rolls a new segment.
constexpr uint64_t kSegmentBytes = 4 * kCommitRecordBytes;

struct Disk {
  sim::EventLoop loop;
  sim::SimDisk disk{loop, sim::Prng(3), "d", sim::DiskOptions{}};
  uint64_t seed = 1;

  // A process incarnation: its Env and its LogManager (open, scanned, cut at the end).
  struct Incarnation {
    std::unique_ptr<sim::DiskEnv> env;
    std::unique_ptr<LogManager> log;
    std::vector<uint64_t> txns;  // the records the scan found, by txn
  };
  Incarnation start() {
    Incarnation inc;
    inc.env = std::make_unique<sim::DiskEnv>(loop, disk, seed++);
    inc.log = std::make_unique<LogManager>(*inc.env, "merkle", 1, kSegmentBytes);
    EXPECT_TRUE(inc.log->open().is_ok());
    if (inc.log->end_lsn() == inc.log->first_lsn()) return inc;  // a new log
    Result<Lsn> end =
        inc.log->scan(inc.log->first_lsn(), [&](const LogRecord& r) { inc.txns.push_back(r.txn); });
    EXPECT_TRUE(end.is_ok());
    if (end.is_ok()) EXPECT_TRUE(inc.log->set_end(*end).is_ok());
    return inc;
  }
  void run() { loop.run_until(loop.now() + 100 * kUsPerMs); }
};

Lsn append_commit(LogManager& log, uint64_t txn) {
  LogRecord r;
  r.type = RecordType::kCommit;
  r.txn = txn;
  r.wal_index = txn;
  return log.append(&r);
}

using PowerLoss = std::pair<std::map<std::string, sim::KeepPlan>, size_t>;

// Every keep plan of a power loss: for each file, each prefix of its unsynced writes; and
// each prefix of the unsynced namespace changes.
std::vector<PowerLoss> every_power_loss(const sim::SimDisk& disk) {
  std::vector<std::pair<std::string, size_t>> files;
  for (const auto& [name, writes] : disk.unsynced_writes_sectors()) {
    files.emplace_back(name, writes.size());
  }
  std::vector<PowerLoss> out;
  std::vector<size_t> kept(files.size(), 0);
  for (;;) {
    std::map<std::string, sim::KeepPlan> plan;
    for (size_t i = 0; i < files.size(); ++i) plan[files[i].first].writes_kept = kept[i];
    for (size_t ns = 0; ns <= disk.unsynced_namespace_ops(); ++ns) out.emplace_back(plan, ns);
    size_t i = 0;
    while (i < files.size() && kept[i] == files[i].second) kept[i++] = 0;
    if (i == files.size()) return out;
    ++kept[i];
  }
}

// Incarnation 1 writes records 1..5; a power loss keeps records 1-2 and the second segment
// (record 5) but not records 3-4 of the first. Incarnation 2 therefore ends its log after
// record 2 and writes 103, 104 (filling the first segment exactly as 3-4 did) and 106 (a new
// second segment), its disk stopped after `ops` operations. Returns incarnation 2's operation
// count (unstopped).
uint64_t two_incarnations(Disk& d, uint64_t ops) {
  {
    Disk::Incarnation first = d.start();
    for (uint64_t t : {1, 2}) append_commit(*first.log, t);
    first.log->force_all([](Status) {});
    d.run();
    EXPECT_EQ(first.log->durable_lsn(), Lsn(kFirstLsn.value + 2 * kCommitRecordBytes));
    for (uint64_t t : {3, 4, 5}) append_commit(*first.log, t);
    first.log->force_all([](Status) {});
    std::map<std::string, sim::KeepPlan> plan;  // the second segment (0xb4 = LSN 180) only
    for (const auto& [name, writes] : d.disk.unsynced_writes_sectors()) {
      const bool second_segment = name.find("00000000000000b4") != std::string::npos;
      plan[name].writes_kept = second_segment ? writes.size() : 0;
    }
    d.disk.power_loss_with(plan, d.disk.unsynced_namespace_ops());
  }
  Disk::Incarnation second = d.start();
  EXPECT_EQ(second.txns, (std::vector<uint64_t>{1, 2}));
  const uint64_t base = d.disk.ops_issued();
  d.disk.freeze_after_ops(base + ops);
  for (uint64_t t : {103, 104, 106}) append_commit(*second.log, t);
  second.log->force_all([](Status) {});
  d.run();
  second.env->crash();
  return d.disk.ops_issued() - base;
}

// A power loss at any point of incarnation 2's I/O, keeping any prefixes, must leave a prefix
// of {1, 2, 103, 104, 106}: the stale record 5 of incarnation 1 would otherwise decode at its
// LSN after 104 (right length, CRC and LSN) — a spliced log.
TEST(LogManager, RecoveredLogIsAPrefixOfOneIncarnationAtEveryPowerLoss) {
  const std::vector<uint64_t> timeline = {1, 2, 103, 104, 106};
  uint64_t ops = 0;
  {
    Disk probe;
    ops = two_incarnations(probe, UINT64_MAX / 2);
  }
  ASSERT_GT(ops, 3u);
  size_t cases = 0;
  for (uint64_t k = 0; k <= ops; ++k) {
    size_t plans = 0;
    {
      auto probe = std::make_unique<Disk>();
      two_incarnations(*probe, k);
      plans = every_power_loss(probe->disk).size();
    }
    for (size_t p = 0; p < plans; ++p) {
      auto d = std::make_unique<Disk>();
      two_incarnations(*d, k);
      const PowerLoss loss = every_power_loss(d->disk)[p];
      d->disk.power_loss_with(loss.first, loss.second);
      Disk::Incarnation third = d->start();
      ASSERT_LE(third.txns.size(), timeline.size());
      EXPECT_TRUE(std::equal(third.txns.begin(), third.txns.end(), timeline.begin()))
          << "stopped after op " << k << ", power loss plan " << p << ": record "
          << third.txns.back() << " after " << third.txns.size() - 1 << " records";
      ++cases;
    }
  }
  RecordProperty("power_losses", static_cast<int>(cases));
}

}  // namespace
}  // namespace replsim::aries
