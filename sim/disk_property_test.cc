// Property tests of the simulated disk against an independent model of its fault model.
//
// The model keeps, per file, the synced image and the list of unsynced writes and truncates,
// and for the namespace the durable names and the unsynced creates/renames/removes. After a
// power loss a file may hold: the synced image + an in-order prefix of the unsynced list +,
// optionally, the first k sectors (of the file's 512-byte grid) of the next write; the names
// are the durable names + an in-order prefix of the unsynced namespace changes. After a
// process crash everything written is there.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/disk.h"

namespace replsim::sim {
namespace {

// ---------------------------------------------------------------- the model

struct ModelWrite {
  bool is_truncate = false;
  uint64_t offset = 0;  // truncate: the new size
  std::string bytes;
};

struct ModelFile {
  std::string synced;
  std::vector<ModelWrite> unsynced;
  std::string cache;
};

enum class NsChangeKind { kCreate, kRename, kRemove };
struct NsChange {
  NsChangeKind kind;
  std::string name;
  std::string to;
  int file = -1;
};

using Names = std::map<std::string, int>;  // name -> model file

// `w` with only its first `bytes_kept` bytes landing.
void model_apply(std::string* image, const ModelWrite& w, size_t bytes_kept) {
  if (w.is_truncate) {
    image->resize(w.offset, '\0');
    return;
  }
  if (bytes_kept == 0) return;
  if (image->size() < w.offset + bytes_kept) image->resize(w.offset + bytes_kept, '\0');
  for (size_t i = 0; i < bytes_kept; ++i) (*image)[w.offset + i] = w.bytes[i];
}
void model_apply(std::string* image, const ModelWrite& w) { model_apply(image, w, w.bytes.size()); }

// Sectors of the file's 512-byte grid that `w` touches.
size_t model_sectors(const ModelWrite& w) {
  if (w.is_truncate || w.bytes.empty()) return 0;
  const uint64_t first = w.offset / 512;
  const uint64_t last = (w.offset + w.bytes.size() - 1) / 512;
  return static_cast<size_t>(last - first + 1);
}

// Bytes of `w` that land when only its first `sectors` sectors do.
size_t model_torn_bytes(const ModelWrite& w, size_t sectors) {
  const uint64_t end = (w.offset / 512 + sectors) * 512;
  if (end <= w.offset) return 0;
  return static_cast<size_t>(std::min<uint64_t>(w.bytes.size(), end - w.offset));
}

Names model_apply_ns(Names names, const NsChange& c) {
  switch (c.kind) {
    case NsChangeKind::kCreate:
      names[c.name] = c.file;
      break;
    case NsChangeKind::kRemove:
      names.erase(c.name);
      break;
    case NsChangeKind::kRename:
      if (names.count(c.name) > 0) {  // its create may have been lost to a failed sync_dir
        const int file = names[c.name];
        names.erase(c.name);
        names[c.to] = file;
      }
      break;
  }
  return names;
}

struct Model {
  std::vector<ModelFile> files;
  Names cache_names;
  Names durable_names;
  std::vector<NsChange> unsynced_ns;
  int syncs_to_fail = 0;

  Names names_after(size_t changes_kept) const {
    Names names = durable_names;
    for (size_t i = 0; i < changes_kept; ++i) names = model_apply_ns(names, unsynced_ns[i]);
    return names;
  }
  std::string recovered(int file, size_t writes_kept, size_t torn_sectors) const {
    const ModelFile& f = files[file];
    std::string image = f.synced;
    for (size_t i = 0; i < writes_kept; ++i) model_apply(&image, f.unsynced[i]);
    if (torn_sectors > 0) {
      const ModelWrite& next = f.unsynced[writes_kept];
      model_apply(&image, next, model_torn_bytes(next, torn_sectors));
    }
    return image;
  }
  std::set<std::string> allowed_contents(int file) const {
    std::set<std::string> allowed;
    const std::vector<ModelWrite>& unsynced = files[file].unsynced;
    for (size_t kept = 0; kept <= unsynced.size(); ++kept) {
      allowed.insert(recovered(file, kept, 0));
      if (kept == unsynced.size()) break;
      for (size_t torn = 1; torn < model_sectors(unsynced[kept]); ++torn) {
        allowed.insert(recovered(file, kept, torn));
      }
    }
    return allowed;
  }
};

// Whether the disk holds a state the model allows after a power loss.
bool disk_matches_some_power_loss(const SimDisk& disk, const Model& model) {
  const std::vector<std::string> names = disk.file_names();
  for (size_t kept = 0; kept <= model.unsynced_ns.size(); ++kept) {
    const Names expected = model.names_after(kept);
    std::vector<std::string> expected_names;
    for (const auto& [name, file] : expected) expected_names.push_back(name);
    if (expected_names != names) continue;
    bool all_allowed = true;
    for (const auto& [name, file] : expected) {
      if (model.allowed_contents(file).count(disk.cached_contents(name)) == 0) {
        all_allowed = false;
      }
    }
    if (all_allowed) return true;
  }
  return false;
}

// ---------------------------------------------------------------- the run

struct World {
  explicit World(uint64_t seed) : disk(loop, Prng(seed), "p", DiskOptions{}) {
    fs = disk.attach(process, 1);
  }
  EventLoop loop;
  SimDisk disk;
  std::shared_ptr<int> process = std::make_shared<int>(0);
  std::unique_ptr<FileSystem> fs;
};

const char* const kNames[] = {"f0", "f1", "f2"};

std::unique_ptr<File> must_open(World& w, const std::string& name) {
  Result<std::unique_ptr<File>> file = w.fs->open(name, false);
  RC_ASSERT(file.is_ok());
  return std::move(file.value());
}

// Issues `issue(callback)`, runs the loop until it fires, and returns whether it was ok.
bool wait_ok(World& w, const std::function<void(IoCallback)>& issue) {
  std::optional<Status> result;
  issue([&](Status s) { result = std::move(s); });
  w.loop.run_while([&] { return !result.has_value(); });
  RC_ASSERT(result.has_value());
  return result->is_ok();
}

void do_write(World& w, Model& m, const std::string& name, std::optional<uint64_t> offset,
              std::string bytes) {
  ModelFile& f = m.files[m.cache_names.at(name)];
  const uint64_t at = offset.value_or(f.cache.size());
  std::unique_ptr<File> file = must_open(w, name);
  auto done = [](Status s) { RC_ASSERT(s.is_ok()); };
  if (offset) {
    file->write(at, bytes, done);
  } else {
    file->append(bytes, done);
  }
  if (bytes.empty()) return;  // an empty write changes nothing
  ModelWrite mw{false, at, std::move(bytes)};
  model_apply(&f.cache, mw);
  f.unsynced.push_back(std::move(mw));
}

void do_sync(World& w, Model& m, const std::string& name) {
  ModelFile& f = m.files[m.cache_names.at(name)];
  std::unique_ptr<File> file = must_open(w, name);
  const bool fails = m.syncs_to_fail > 0;
  if (fails) --m.syncs_to_fail;
  RC_ASSERT(wait_ok(w, [&](IoCallback cb) { file->sync(std::move(cb)); }) == !fails);
  if (!fails) {
    for (const ModelWrite& mw : f.unsynced) model_apply(&f.synced, mw);
  }
  f.unsynced.clear();  // synced, or lost for good
}

void do_sync_dir(World& w, Model& m) {
  const bool fails = m.syncs_to_fail > 0;
  if (fails) --m.syncs_to_fail;
  RC_ASSERT(wait_ok(w, [&](IoCallback cb) { w.fs->sync_dir(std::move(cb)); }) == !fails);
  if (!fails) m.durable_names = m.names_after(m.unsynced_ns.size());
  m.unsynced_ns.clear();
}

// One random operation: kinds 0..8 are create, write, append, truncate, sync, sync_dir,
// rename, remove, fail the next sync. Each issues at most one mutating disk op; operations on
// missing files are skipped.
struct OpSpec {
  int kind = 0;
  int name = 0;
  int to = 0;
  uint64_t offset = 0;  // write offset or truncate size
  size_t length = 0;
};

// Weighted so that unsynced writes and namespace changes pile up.
std::vector<OpSpec> gen_ops() {
  static constexpr int kWeights[] = {14, 26, 22, 5, 9, 8, 8, 4, 4};
  std::vector<OpSpec> ops(*rc::gen::inRange<size_t>(1, 80));
  for (OpSpec& op : ops) {
    int roll = *rc::gen::inRange(0, 100);
    op.kind = 0;
    while (roll >= kWeights[op.kind]) roll -= kWeights[op.kind++];
    op.name = *rc::gen::inRange(0, 3);
    op.to = *rc::gen::inRange(0, 3);
    op.offset = *rc::gen::inRange<uint64_t>(0, 2600);
    op.length = *rc::gen::inRange<size_t>(0, 1300);
  }
  return ops;
}

// Applies `op` to the disk and the model, waiting for syncs to complete.
void apply_op(World& w, Model& m, const OpSpec& op, int op_index) {
  const std::string name = kNames[op.name];
  const bool exists = m.cache_names.count(name) > 0;
  const std::string bytes(op.length, static_cast<char>('a' + op_index % 26));
  switch (op.kind) {
    case 0:
      if (exists) return;
      RC_ASSERT(w.fs->open(name, true).is_ok());
      m.files.push_back({});
      m.cache_names[name] = static_cast<int>(m.files.size()) - 1;
      m.unsynced_ns.push_back({NsChangeKind::kCreate, name, "", m.cache_names[name]});
      return;
    case 1:
      if (exists) do_write(w, m, name, op.offset, bytes);
      return;
    case 2:
      if (exists) do_write(w, m, name, std::nullopt, bytes);
      return;
    case 3: {
      if (!exists) return;
      RC_ASSERT(must_open(w, name)->truncate(op.offset).is_ok());
      ModelFile& f = m.files[m.cache_names[name]];
      ModelWrite mw{true, op.offset, {}};
      model_apply(&f.cache, mw);
      f.unsynced.push_back(mw);
      return;
    }
    case 4:
      if (exists) do_sync(w, m, name);
      return;
    case 5:
      do_sync_dir(w, m);
      return;
    case 6: {
      if (!exists) return;
      const std::string to = kNames[op.to];
      RC_ASSERT(w.fs->rename(name, to).is_ok());
      if (to == name) return;
      NsChange change{NsChangeKind::kRename, name, to, -1};
      m.cache_names = model_apply_ns(m.cache_names, change);
      m.unsynced_ns.push_back(change);
      return;
    }
    case 7:
      if (!exists) return;
      RC_ASSERT(w.fs->remove(name).is_ok());
      m.cache_names.erase(name);
      m.unsynced_ns.push_back({NsChangeKind::kRemove, name, "", -1});
      return;
    default:
      w.disk.fail_next_syncs(1);
      ++m.syncs_to_fail;
      return;
  }
}

// Issues `op` to a frozen disk: it must change nothing and never call back (`*called_back`).
void issue_frozen_op(World& w, const Model& m, const OpSpec& op, bool* called_back) {
  const std::string name = kNames[op.name];
  const bool exists = m.cache_names.count(name) > 0;
  IoCallback late = [called_back](Status) { *called_back = true; };
  std::unique_ptr<File> file;
  if (exists) file = must_open(w, name);
  switch (op.kind) {
    case 0:
      if (!exists) RC_ASSERT(w.fs->open(name, true).is_ok());
      return;
    case 1:
      if (exists) file->write(op.offset, std::string(op.length, '!'), late);
      return;
    case 2:
      if (exists) file->append(std::string(op.length, '!'), late);
      return;
    case 3:
      if (exists) RC_ASSERT(file->truncate(op.offset).is_ok());
      return;
    case 4:
      if (exists) file->sync(late);
      return;
    case 5:
      w.fs->sync_dir(late);
      return;
    case 6:
      if (exists) RC_ASSERT(w.fs->rename(name, kNames[op.to]).is_ok());
      return;
    case 7:
      if (exists) RC_ASSERT(w.fs->remove(name).is_ok());
      return;
    default:
      return;
  }
}

void run_random_ops(World& w, Model& m) {
  const std::vector<OpSpec> ops = gen_ops();
  for (size_t i = 0; i < ops.size(); ++i) apply_op(w, m, ops[i], static_cast<int>(i));
}

// After any power loss: the cache is the durable image and nothing is left unsynced.
void check_settled(const SimDisk& disk) {
  RC_ASSERT(disk.unsynced_namespace_ops() == 0u);
  RC_ASSERT(disk.durable_file_names() == disk.file_names());
  for (const auto& [name, sectors] : disk.unsynced_writes_sectors()) {
    RC_ASSERT(sectors.empty());
    RC_ASSERT(disk.durable_contents(name) == disk.cached_contents(name));
  }
}

// The disk reports the same unsynced writes (sizes in sectors) as the model holds.
void check_unsynced_matches(const SimDisk& disk, const Model& m) {
  std::map<std::string, std::vector<size_t>> expected;
  for (const auto& [name, file] : m.cache_names) {
    std::vector<size_t>& sectors = expected[name];
    for (const ModelWrite& mw : m.files[file].unsynced) sectors.push_back(model_sectors(mw));
  }
  RC_ASSERT(disk.unsynced_writes_sectors() == expected);
  RC_ASSERT(disk.unsynced_namespace_ops() == m.unsynced_ns.size());
}

RC_GTEST_PROP(SimDiskProperty, ProcessCrashKeepsEverythingWritten, ()) {
  World w(*rc::gen::arbitrary<uint64_t>());
  Model m;
  run_random_ops(w, m);
  int late_callbacks = 0;
  if (!m.cache_names.empty()) {
    must_open(w, m.cache_names.begin()->first)->append("x", [&](Status) { ++late_callbacks; });
    ModelFile& f = m.files[m.cache_names.begin()->second];
    f.cache += "x";
  }
  w.process.reset();  // the process crashes; its pending callbacks must never fire
  w.loop.run_until(w.loop.now() + 10'000'000);
  RC_ASSERT(late_callbacks == 0);
  auto restarted = std::make_shared<int>(1);
  std::unique_ptr<FileSystem> fs = w.disk.attach(restarted, 1);
  std::vector<std::string> expected_names;
  for (const auto& [name, file] : m.cache_names) expected_names.push_back(name);
  RC_ASSERT(fs->list("") == expected_names);
  for (const auto& [name, file] : m.cache_names) {
    Result<std::unique_ptr<File>> f = fs->open(name, false);
    RC_ASSERT(f.is_ok());
    std::string content;
    RC_ASSERT(f.value()->read(0, f.value()->size(), &content).is_ok());
    RC_ASSERT(content == m.files[file].cache);
  }
}

RC_GTEST_PROP(SimDiskProperty, RandomPowerLossRecoversAStateTheModelAllows, ()) {
  World w(*rc::gen::arbitrary<uint64_t>());
  Model m;
  run_random_ops(w, m);
  check_unsynced_matches(w.disk, m);
  w.disk.power_loss();
  RC_ASSERT(disk_matches_some_power_loss(w.disk, m));
  check_settled(w.disk);
}

RC_GTEST_PROP(SimDiskProperty, PlannedPowerLossRecoversExactlyThePlan, ()) {
  World w(*rc::gen::arbitrary<uint64_t>());
  Model m;
  run_random_ops(w, m);
  check_unsynced_matches(w.disk, m);
  std::map<std::string, KeepPlan> plan;
  std::map<int, KeepPlan> plan_by_file;
  for (const auto& [name, file] : m.cache_names) {
    const std::vector<ModelWrite>& unsynced = m.files[file].unsynced;
    KeepPlan keep;
    keep.writes_kept = *rc::gen::inRange<size_t>(0, unsynced.size() + 1);
    if (keep.writes_kept < unsynced.size()) {
      const size_t sectors = model_sectors(unsynced[keep.writes_kept]);
      if (sectors > 0) keep.torn_sectors_of_next = *rc::gen::inRange<size_t>(0, sectors);
    }
    plan[name] = keep;
    plan_by_file[file] = keep;
  }
  const size_t changes_kept = *rc::gen::inRange<size_t>(0, m.unsynced_ns.size() + 1);
  w.disk.power_loss_with(plan, changes_kept);

  const Names names = m.names_after(changes_kept);
  std::vector<std::string> expected_names;
  for (const auto& [name, file] : names) expected_names.push_back(name);
  RC_ASSERT(w.disk.file_names() == expected_names);
  for (const auto& [name, file] : names) {
    const KeepPlan keep = plan_by_file.count(file) > 0 ? plan_by_file[file] : KeepPlan{};
    RC_ASSERT(w.disk.cached_contents(name) ==
              m.recovered(file, keep.writes_kept, keep.torn_sectors_of_next));
  }
  check_settled(w.disk);
}

// The page cache holds exactly what the model's cache does (what a process crash keeps).
void check_cache_matches(const SimDisk& disk, const Model& m) {
  std::vector<std::string> expected_names;
  for (const auto& [name, file] : m.cache_names) expected_names.push_back(name);
  RC_ASSERT(disk.file_names() == expected_names);
  for (const auto& [name, file] : m.cache_names) {
    RC_ASSERT(disk.cached_contents(name) == m.files[file].cache);
  }
}

// Crash-point enumeration: freezing the disk at op i then losing power gives a state the
// model allows after the first i ops, whatever is issued after the freeze.
RC_GTEST_PROP(SimDiskProperty, FreezingAtEveryOpThenPowerLossRecoversAnAllowedState, ()) {
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  const std::vector<OpSpec> ops = gen_ops();
  uint64_t ops_total = 0;
  {
    World w(seed);
    Model m;
    for (size_t i = 0; i < ops.size(); ++i) apply_op(w, m, ops[i], static_cast<int>(i));
    ops_total = w.disk.ops_issued();
  }
  for (uint64_t freeze_at = 0; freeze_at <= ops_total; ++freeze_at) {
    World w(seed);
    Model m;
    w.disk.freeze_after_ops(freeze_at);
    bool called_back = false;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (w.disk.ops_issued() < freeze_at) {
        apply_op(w, m, ops[i], static_cast<int>(i));
      } else {
        issue_frozen_op(w, m, ops[i], &called_back);
      }
    }
    // (ops_issued() may differ from ops_total: a frozen create leaves its name missing, so a
    // later create of that name is issued too.)
    w.loop.run_until(w.loop.now() + 10'000'000);
    RC_ASSERT(!called_back);
    check_cache_matches(w.disk, m);
    w.disk.power_loss();
    RC_ASSERT(disk_matches_some_power_loss(w.disk, m));
    check_settled(w.disk);
  }
}

// The checker above is not vacuous: a bit flipped after recovery is caught.
TEST(SimDiskModelTest, ModelCheckCatchesACorruptedRecovery) {
  World w(3);
  Model m;
  RC_ASSERT(w.fs->open("f0", true).is_ok());
  m.files.push_back({});
  m.cache_names["f0"] = 0;
  m.unsynced_ns.push_back({NsChangeKind::kCreate, "f0", "", 0});
  do_sync_dir(w, m);
  do_write(w, m, "f0", 0, std::string(1000, 'a'));
  do_sync(w, m, "f0");
  do_write(w, m, "f0", 200, std::string(900, 'b'));
  w.disk.power_loss();
  EXPECT_TRUE(disk_matches_some_power_loss(w.disk, m));
  w.disk.inject_bit_rot("f0", 100);
  EXPECT_FALSE(disk_matches_some_power_loss(w.disk, m));
}

}  // namespace
}  // namespace replsim::sim
