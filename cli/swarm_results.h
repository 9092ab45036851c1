// Swarm results that survive the process and combine across machines (docs/scale.md).
//
// The journal (`replsim swarm --results FILE`) is JSON Lines: one proto::SwarmResult holding
// exactly one seed per line, appended and fsynced as each seed finishes, so a killed swarm
// loses at most the seeds that were running. A torn last line (the process or machine died
// mid-write) is tolerated and dropped; a bad line anywhere else is corruption and refused.
//
// Every result names its build (SHA-256 of the replsim executable) and the SHA-256 of the
// scenario file's bytes; merge_results() refuses to combine results that differ in either,
// or in the seed range, and lists the seeds of the range that have no result.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "proto/summary.pb.h"

namespace replsim::cli {

// SHA-256 of a file's bytes, 64 lowercase hex digits.
Result<std::string> sha256_file(const std::string& path);

// One line of protobuf JSON (no whitespace, snake_case field names), without the newline.
std::string to_json_line(const proto::SwarmResult& result);

struct Journal {
  std::vector<proto::SwarmResult> entries;  // in file order
  uint64_t good_bytes = 0;                  // length of the complete, valid lines
  bool torn_tail = false;                   // the last line was incomplete and is ignored
};

// Reads a journal. A missing file is an empty journal. Error (with FILE:LINE) on a line that
// does not parse and is not the last one, or on a line that does not hold exactly one seed.
Result<Journal> read_journal(const std::string& path);

// Appends to a journal: each append() is one write of one line followed by fsync(), so a
// line is either wholly there or torn at the end. `truncate_to` cuts a torn tail first.
class JournalWriter {
 public:
  JournalWriter() = default;
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  [[nodiscard]] Status open(const std::string& path, uint64_t truncate_to);
  [[nodiscard]] Status append(const proto::SwarmResult& one_seed);

 private:
  std::string path_;
  int fd_ = -1;
};

// The seeds of [first, last] whose (seed - first) % shards == shard.
std::vector<uint64_t> shard_seeds(uint64_t first, uint64_t last, uint64_t shard, uint64_t shards);

// Sorts seeds, counts passed and failed.
void finish_result(proto::SwarmResult* result);

// "1..4, 7, 9..12"-style ranges of the seeds of [first, last] that are not in `present`.
std::vector<std::string> missing_ranges(uint64_t first, uint64_t last,
                                        const std::set<uint64_t>& present);

// Why `b` cannot be combined with `a` ("is from another build (...)"), or empty: both must
// carry a build id and scenario hash, and agree on them and on the seed range.
std::string journal_mismatch(const proto::SwarmResult& a, const proto::SwarmResult& b);

// Combines results (each named by the file it came from, for error messages). Refuses, with
// an error naming the file, results of another build, scenario content or seed range, and
// one seed with two different outcomes (same build and seed must give the same trace hash).
// The same outcome twice (a shard given twice) counts once. Fills missing_seeds.
Result<proto::SwarmResult> merge_results(
    const std::vector<std::pair<std::string, proto::SwarmResult>>& parts);

}  // namespace replsim::cli
