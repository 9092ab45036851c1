// The trace hash and the fault recorder.
//
// Every simulated event of note (message delivered, timer fired, disk op completed, fault
// injected, ...) is folded as (virtual time, node, event kind, payload digest) into one 64-bit
// hash. Two runs of the same seed on the same build must give the same hash. With
// keep_events(true) the events themselves are kept, so two runs can be compared and the first
// divergent event reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/types.h"

namespace replsim::sim {

struct TraceEvent {
  TimeUs time_us = 0;
  uint32_t node = 0;
  const char* kind = "";  // a string literal: kinds are a fixed vocabulary
  uint64_t digest = 0;
};

std::string describe(const TraceEvent& event);

// A fast 64-bit digest of a payload for trace events (8 bytes per step; fnv1a64 takes one).
// Deterministic for the same bytes on the same build; not cryptographic.
uint64_t payload_digest(std::string_view bytes);

class Trace {
 public:
  void record(TimeUs time_us, uint32_t node, const char* kind, uint64_t digest);
  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }

  void keep_events(bool keep) { keep_ = keep; }
  const std::vector<TraceEvent>& events() const { return events_; }

 private:
  uint64_t kind_hash(const char* kind);

  // Kind hashes cached by literal address: a speed-up only, the value is fnv1a64(kind).
  struct KindCache {
    const char* kind = nullptr;
    uint64_t hash = 0;
  };
  static constexpr size_t kKindCacheSize = 64;
  KindCache kind_cache_[kKindCacheSize];
  uint64_t hash_ = 0x243f6a8885a308d3ull;
  uint64_t count_ = 0;
  bool keep_ = false;
  std::vector<TraceEvent> events_;
};

// Index of the first event where `a` and `b` differ (or where one ends), nullopt if equal.
std::optional<size_t> first_divergence(const std::vector<TraceEvent>& a,
                                       const std::vector<TraceEvent>& b);
// "first divergent event #N: run A: t=... node=... kind=... digest=...; run B: ..."
std::string divergence_report(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b);

struct FaultRecord {
  TimeUs time_us = 0;
  std::string kind;    // "partition", "crash", "power_loss", "fsync_failure", ...
  std::string target;  // "node 3", "link 1->4", "disk c2", ...
  std::string detail;
};

// Every injected fault, in injection order, so a report can say what was done to the system.
class FaultRecorder {
 public:
  void record(TimeUs time_us, std::string kind, std::string target, std::string detail = "");
  const std::vector<FaultRecord>& faults() const { return faults_; }
  size_t count(std::string_view kind) const;

 private:
  std::vector<FaultRecord> faults_;
};

}  // namespace replsim::sim
