// The history of a run, in Jepsen's style.
//
// Every client operation is an `invoke` event followed by exactly one completion: `ok` (it
// happened), `fail` (it certainly did not happen) or `info` (unknown: timeout, crash of the
// node serving it). Operator actions are recorded the same way with client = kOperatorClient;
// injected faults are single `info` events with client = kNemesisClient and f = "fault:<kind>".
// Events are appended in virtual-time order; `index` is the position in the history.
//
// JSON Lines (one event per line; schema in docs/checkers.md):
//   {"index":3,"time_us":1200,"client":2,"type":"ok","f":"write","key":"kv/k1",
//    "value":"...","node":4,"cluster":1,"epoch":1,"wal_index":17,"warning":"",...}
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/types.h"

namespace replsim::harness {

enum class EventType { kInvoke, kOk, kFail, kInfo };
const char* event_type_name(EventType type);

inline constexpr int64_t kOperatorClient = -1;
inline constexpr int64_t kNemesisClient = -2;

// Operation names ("f" in Jepsen's vocabulary).
inline constexpr const char* kOpWrite = "write";
inline constexpr const char* kOpRead = "read";
inline constexpr const char* kOpDelete = "delete";
inline constexpr const char* kOpList = "list";
inline constexpr const char* kOpLogin = "login";
inline constexpr const char* kOpTokenUse = "token_use";

struct HistoryEvent {
  int64_t index = -1;  // set by History::append
  TimeUs time_us = 0;
  int64_t client = 0;  // client id, kOperatorClient or kNemesisClient
  uint64_t op_id = 0;  // pairs an invoke with its completion (unique per history)
  EventType type = EventType::kInvoke;
  std::string f;                     // kOp*, an operator action name, or "fault:<kind>"
  std::string key;                   // path (write/read/delete), prefix (list), username (login)
  std::optional<std::string> value;  // written value / value read (nullopt: absent)
  std::vector<std::string> keys;     // list result
  std::string token;                 // login result / token used
  uint32_t node = 0;                 // node the session is bound to (nemesis: the target, if one)
  uint32_t cluster = 0;              // that node's cluster
  uint32_t served_by_cluster = 0;    // completions: cluster that committed/served
  bool forwarded = false;
  // Index state: on invoke the required one (reads; 0/0 = none), on ok the returned one.
  uint64_t epoch = 0;
  uint64_t wal_index = 0;
  std::string warning;  // non-empty = the node answered with a warning
  std::string error;    // fail/info: the error code name and message
  std::string detail;   // operator/fault detail (target, parameters)
};

class History {
 public:
  // Appends `event`, setting its index. REQUIRES: time never goes backwards.
  int64_t append(HistoryEvent event);
  // A deque: a long run's history grows without the copy (and the 2x peak) of a vector's
  // reallocation.
  const std::deque<HistoryEvent>& events() const { return events_; }
  size_t size() const { return events_.size(); }
  const HistoryEvent& at(int64_t index) const;

  // The invoke event paired with completion `c` (nullptr if none).
  const HistoryEvent* invocation_of(const HistoryEvent& c) const;

  void write_jsonl(std::ostream& out) const;
  // Parses what write_jsonl wrote. Returns false (and stops) at the first malformed line.
  static bool read_jsonl(std::istream& in, History* out, std::string* error);

 private:
  std::deque<HistoryEvent> events_;
  std::map<uint64_t, int64_t> invoke_by_op_;  // op_id → index of its invoke
};

// One event as a single JSON object (no trailing newline).
std::string to_json(const HistoryEvent& event);
// "t=1.234567s client=2 ok write kv/k1 node=4 c1 e1/17" — for checker messages.
std::string describe(const HistoryEvent& event);

}  // namespace replsim::harness
