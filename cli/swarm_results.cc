#include "cli/swarm_results.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace replsim::cli {
namespace {

std::string errno_text() { return std::strerror(errno); }

Result<proto::SwarmResult> parse_line(const std::string& line) {
  proto::SwarmResult entry;
  auto parsed = google::protobuf::util::JsonStringToMessage(line, &entry);
  if (!parsed.ok()) return Status::corruption(std::string(parsed.message()));
  if (entry.seeds_size() != 1) return Status::corruption("a journal line holds one seed");
  return entry;
}

std::string range_text(uint64_t a, uint64_t b) {
  return a == b ? std::to_string(a) : std::to_string(a) + ".." + std::to_string(b);
}

}  // namespace

std::string journal_mismatch(const proto::SwarmResult& a, const proto::SwarmResult& b) {
  if (b.build_id().empty() || b.scenario_sha256().empty()) {
    return "has no build_id/scenario_sha256 (written by an older replsim)";
  }
  if (a.build_id() != b.build_id()) {
    return "is from another build (build_id " + b.build_id() + ", expected " + a.build_id() + ")";
  }
  if (a.scenario_sha256() != b.scenario_sha256()) {
    return "ran another scenario file (scenario_sha256 " + b.scenario_sha256() + ", expected " +
           a.scenario_sha256() + ")";
  }
  if (a.seed_first() != b.seed_first() || a.seed_last() != b.seed_last()) {
    return "covers another seed range (" + range_text(b.seed_first(), b.seed_last()) +
           ", expected " + range_text(a.seed_first(), a.seed_last()) + ")";
  }
  return "";
}

Result<std::string> sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::io_error("sha256: OpenSSL init failed");
  }
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof(buffer));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buffer, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Status::io_error(path + ": read failed");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string to_json_line(const proto::SwarmResult& result) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a message we built cannot fail (no Any fields, no unknown enums).
  (void)google::protobuf::util::MessageToJsonString(result, &json, options);
  return json;
}

Result<Journal> read_journal(const std::string& path) {
  Journal journal;
  struct stat st {};
  // Not a regular file (/dev/null, a pipe): write-only, nothing to resume.
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return journal;
  std::ifstream in(path, std::ios::binary);
  if (!in) return journal;  // nothing written yet
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  size_t at = 0;
  int line_number = 0;
  while (at < text.size()) {
    ++line_number;
    const size_t newline = text.find('\n', at);
    const bool last = newline == std::string::npos || newline + 1 == text.size();
    const std::string line =
        text.substr(at, newline == std::string::npos ? std::string::npos : newline - at);
    Result<proto::SwarmResult> entry =
        newline == std::string::npos ? Status::corruption("no newline") : parse_line(line);
    if (!entry.is_ok()) {
      // Only the end of the file can be torn: the writer appends whole lines and fsyncs.
      if (!last) {
        return Status::corruption(path + ":" + std::to_string(line_number) +
                                  ": not a journal line: " + entry.status().message());
      }
      journal.torn_tail = true;
      break;
    }
    journal.entries.push_back(std::move(*entry));
    at = newline + 1;
    journal.good_bytes = at;
  }
  return journal;
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) close(fd_);
}

Status JournalWriter::open(const std::string& path, uint64_t truncate_to) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::io_error(path + ": " + errno_text());
  struct stat st {};
  if (fstat(fd_, &st) != 0) return Status::io_error(path + ": " + errno_text());
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) != truncate_to &&
      ftruncate(fd_, static_cast<off_t>(truncate_to)) != 0) {
    return Status::io_error(path + ": truncate: " + errno_text());
  }
  return Status::ok();
}

Status JournalWriter::append(const proto::SwarmResult& one_seed) {
  const std::string line = to_json_line(one_seed) + "\n";
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return errno == ENOSPC ? Status::no_space(path_ + ": disk full")
                             : Status::io_error(path_ + ": write: " + errno_text());
    }
    written += static_cast<size_t>(n);
  }
  // fsync is meaningless (EINVAL) on a pipe or device such as /dev/null.
  if (fsync(fd_) != 0 && errno != EINVAL) {
    return Status::io_error(path_ + ": fsync: " + errno_text());
  }
  return Status::ok();
}

std::vector<uint64_t> shard_seeds(uint64_t first, uint64_t last, uint64_t shard, uint64_t shards) {
  std::vector<uint64_t> seeds;
  for (uint64_t s = first; s <= last; ++s) {
    if ((s - first) % shards == shard) seeds.push_back(s);
    if (s == UINT64_MAX) break;
  }
  return seeds;
}

void finish_result(proto::SwarmResult* result) {
  std::map<uint64_t, proto::SeedOutcome> by_seed;
  for (const proto::SeedOutcome& s : result->seeds()) by_seed[s.seed()] = s;
  result->clear_seeds();
  uint32_t passed = 0;
  for (auto& [seed, s] : by_seed) {
    passed += s.passed();
    *result->add_seeds() = s;
  }
  result->set_passed(passed);
  result->set_failed(static_cast<uint32_t>(by_seed.size()) - passed);
}

std::vector<std::string> missing_ranges(uint64_t first, uint64_t last,
                                        const std::set<uint64_t>& present) {
  std::vector<std::string> out;
  uint64_t s = first;  // the first seed not yet accounted for
  for (auto it = present.lower_bound(first);; ++it) {
    if (it == present.end() || *it > last) {
      out.push_back(range_text(s, last));
      break;
    }
    if (*it > s) out.push_back(range_text(s, *it - 1));
    if (*it == last) break;
    s = *it + 1;
  }
  return out;
}

Result<proto::SwarmResult> merge_results(
    const std::vector<std::pair<std::string, proto::SwarmResult>>& parts) {
  proto::SwarmResult merged;
  if (parts.empty()) return Status::invalid_argument("nothing to merge");
  const proto::SwarmResult& first = parts.front().second;
  std::map<uint64_t, proto::SeedOutcome> by_seed;
  std::set<std::string> shards;
  for (const auto& [file, part] : parts) {
    std::string why = journal_mismatch(first, part);
    if (!why.empty()) return Status::invalid_argument(file + ": " + why);
    for (const std::string& shard : part.shards()) {
      if (shards.insert(shard).second) merged.add_shards(shard);
    }
    for (const proto::SeedOutcome& s : part.seeds()) {
      auto [it, inserted] = by_seed.emplace(s.seed(), s);
      if (!inserted &&
          (it->second.trace_hash() != s.trace_hash() || it->second.passed() != s.passed())) {
        return Status::invalid_argument(file + ": seed " + std::to_string(s.seed()) +
                                        " has another outcome (trace hash " + s.trace_hash() +
                                        ") than before (" + it->second.trace_hash() +
                                        "): the same build and seed must give the same run");
      }
    }
    merged.set_wall_s(std::max(merged.wall_s(), part.wall_s()));
  }
  merged.set_scenario_file(first.scenario_file());
  merged.set_seed_first(first.seed_first());
  merged.set_seed_last(first.seed_last());
  merged.set_build_id(first.build_id());
  merged.set_scenario_sha256(first.scenario_sha256());
  std::set<uint64_t> present;
  for (auto& [seed, s] : by_seed) {
    if (seed < first.seed_first() || seed > first.seed_last()) {
      return Status::invalid_argument("seed " + std::to_string(seed) + " is outside the range");
    }
    present.insert(seed);
    *merged.add_seeds() = s;
  }
  for (const std::string& gap : missing_ranges(first.seed_first(), first.seed_last(), present)) {
    merged.add_missing_seeds(gap);
  }
  finish_result(&merged);
  return merged;
}

}  // namespace replsim::cli
