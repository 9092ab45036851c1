// fuzz_seeds: writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*) from
// real runs: messages captured in the node_message world, the files of a store and of an
// ARIES index after real workloads (including a power loss), and the scenario library.
// Deterministic: the same build writes the same bytes. Usage: fuzz_seeds <corpus dir> <repo>.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/storage/store.h"
#include "engine/storage/store_test_util.h"
#include "fuzz/aries_restart_fuzz.h"
#include "fuzz/node_message_fuzz.h"
#include "proto/replication.pb.h"
#include "runtime/frame.h"
#include "sim/disk.h"
#include "sim/disk_env.h"

namespace replsim::fuzz {
namespace {

namespace fs = std::filesystem;

class Corpus {
 public:
  explicit Corpus(fs::path dir) : dir_(std::move(dir)) {}
  void add(const std::string& target, const std::string& bytes) {
    fs::create_directories(dir_ / target);
    const int n = ++count_[target];
    std::ofstream(dir_ / target / ("seed-" + std::to_string(n)), std::ios::binary) << bytes;
  }
  const std::map<std::string, int>& counts() const { return count_; }

 private:
  fs::path dir_;
  std::map<std::string, int> count_;
};

void put_blob(std::string* out, std::string_view bytes) {
  const size_t n = std::min<size_t>(bytes.size(), 65535);
  out->push_back(static_cast<char>(n & 0xff));
  out->push_back(static_cast<char>(n >> 8));
  out->append(bytes.substr(0, n));
}

uint8_t index_of(const NodeId* ids, size_t n, NodeId id) {
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] == id) return static_cast<uint8_t>(i);
  }
  return static_cast<uint8_t>(n - 1);
}

// node_message and frame: the first two messages of each NodeEnvelope kind sent to a node
// while replication is set up and clients write and read.
void node_messages(Corpus& corpus) {
  std::map<int, int> per_kind;
  std::vector<std::string> frames;
  std::unique_ptr<cluster::testkit::Topology> world;
  auto capture = [&](NodeId from, NodeId to, const std::string& payload) {
    proto::NodeEnvelope e;
    if (to.value < 100 || !e.ParseFromString(payload)) return;
    if (per_kind[e.body_case()]++ >= 2) return;
    std::string input;
    input.push_back(static_cast<char>(index_of(kNodeTargets, 4, to)));
    input.push_back(static_cast<char>(index_of(kNodeSenders, 6, from)));
    put_blob(&input, payload);
    corpus.add("node_message", input);
    if (frames.size() < 8) frames.push_back(runtime::encode_frame(from, payload));
  };
  world = std::make_unique<cluster::testkit::Topology>(cluster::testkit::topology_options(1, 2, 2));
  world->world().network().add_observer(capture);
  if (!world->setup_replication()) std::fprintf(stderr, "fuzz_seeds: setup failed\n");
  const std::string token = world->login(world->active_id(0));
  for (int i = 0; i < 5; ++i) {
    world->write(world->active_id(0), token, "k" + std::to_string(i), "v");
    world->write(world->active_id(1), token, "s" + std::to_string(i), "w");  // forwarded
  }
  world->read(world->active_id(1), token, "k1");
  world->run_until([] { return false; }, 2 * kUsPerSec);
  for (size_t i = 0; i + 2 < frames.size(); i += 3) {
    for (const char mode : {'\0', '\1'})
      corpus.add("frame", mode + frames[i] + frames[i + 1] + frames[i + 2]);
  }
}

Transaction txn(int i) {
  Transaction t;
  t.put("k" + std::to_string(i % 6), "value-" + std::to_string(i));
  if (i % 4 == 0) t.del("k" + std::to_string((i + 3) % 6));
  if (i % 5 == 0) t.put("sys/token/t" + std::to_string(i), "local");
  return t;
}

// store_record, store_recovery and wal_entry: a store's files and WAL entries after real
// commits, before and after a compaction, and after a power loss mid-write.
void store_files(Corpus& corpus) {
  testing::StoreRig rig;
  rig.open();
  auto capture = [&] {
    const std::string log = rig.disk.cached_contents("store/data.log");
    const std::string snapshot = rig.disk.cached_contents("store/snapshot");
    corpus.add("store_record", std::string(1, '\0') + log);
    if (!snapshot.empty()) corpus.add("store_record", std::string(1, '\0') + snapshot);
    for (const char mode : {'\0', '\2'}) {
      std::string input(1, mode);
      put_blob(&input, snapshot);
      corpus.add("store_recovery", input + log);
    }
    for (const WalEntry& e : rig.store->wal().entries()) {
      if (e.index.value % 3 == 0)
        corpus.add("wal_entry", std::string(1, '\0') + encode_wal_entry(e));
    }
  };
  for (int i = 1; i <= 8; ++i) (void)rig.commit(txn(i));
  capture();
  (void)rig.compact();
  for (int i = 9; i <= 14; ++i) (void)rig.commit(txn(i));
  capture();
  rig.store->commit(txn(15), [](Result<CommitInfo>) {});  // in flight at the power loss
  rig.disk.power_loss();
  rig.crash();
  rig.open();
  capture();
}

// aries_restart and aries_record: the index files after real applies (some flushed and
// checkpointed, some only in the log), after a process crash and after a power loss.
void aries_files(Corpus& corpus) {
  sim::EventLoop loop;
  sim::SimDisk disk(loop, sim::Prng(7), "disk", sim::DiskOptions{});
  aries::testing::ModelStorage storage;
  fill_aries_fuzz_storage(&storage, kAriesFuzzEntries, 0);
  aries::testing::ModelStorage growing;
  auto env = std::make_unique<sim::DiskEnv>(loop, disk, 1);
  auto index = aries::AriesIndex::open(*env, aries_fuzz_options(), growing);
  if (!index.is_ok()) return;
  auto capture = [&] {
    std::string input(1, '\0');
    for (const std::string& name : disk.file_names()) {
      const std::string bytes = disk.cached_contents(name);
      input.push_back(static_cast<char>(name.size()));
      input += name;
      put_blob(&input, bytes);
      const bool log = name.find("/log.") != std::string::npos;
      if (log || name.find("/pages.") != std::string::npos) {
        std::string record(1, log ? '\0' : '\2');
        if (log) {  // base LSN (u16) then the segment
          const uint64_t base = std::stoull(name.substr(name.rfind('.') + 1));
          if (base > 65535) continue;
          record.push_back(static_cast<char>(base & 0xff));
          record.push_back(static_cast<char>(base >> 8));
        }
        corpus.add("aries_record", record + bytes.substr(0, 4096));
      }
    }
    corpus.add("aries_restart", input);
  };
  for (int i = 1; i <= kAriesFuzzEntries; ++i) {
    const WalIndex w = growing.commit(aries_fuzz_entry(i));
    (*index)->apply(w, aries_fuzz_entry(i));
    if (i % 10 == 0) loop.run_until(loop.now() + 15 * kUsPerMs);
    if (i == 15 || i == 30) capture();
  }
  disk.power_loss();
  index->reset();
  env = std::make_unique<sim::DiskEnv>(loop, disk, 2);
  capture();
}

void scenarios(Corpus& corpus, const fs::path& repo) {
  for (const auto& entry : fs::directory_iterator(repo / "scenarios")) {
    if (entry.path().extension() != ".textproto") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    corpus.add("scenario", text.str());
  }
}

}  // namespace
}  // namespace replsim::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds <corpus dir> <repository root>\n");
    return 2;
  }
  replsim::fuzz::Corpus corpus{std::filesystem::path(argv[1])};
  replsim::fuzz::node_messages(corpus);
  replsim::fuzz::store_files(corpus);
  replsim::fuzz::aries_files(corpus);
  replsim::fuzz::scenarios(corpus, argv[2]);
  for (const auto& [target, n] : corpus.counts())
    std::printf("%-16s %d seeds\n", target.c_str(), n);
  return 0;
}
