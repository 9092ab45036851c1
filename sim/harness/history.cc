#include "sim/harness/history.h"

#include <cstdio>
#include <istream>
#include <sstream>

#include "engine/assert.h"
#include "sim/harness/json.h"

namespace replsim::harness {

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kInvoke:
      return "invoke";
    case EventType::kOk:
      return "ok";
    case EventType::kFail:
      return "fail";
    case EventType::kInfo:
      return "info";
  }
  return "?";
}

static bool parse_event_type(const std::string& s, EventType* out) {
  for (EventType t : {EventType::kInvoke, EventType::kOk, EventType::kFail, EventType::kInfo}) {
    if (s == event_type_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

int64_t History::append(HistoryEvent event) {
  REPLSIM_ASSERT_MSG(events_.empty() || event.time_us >= events_.back().time_us,
                     "history time went backwards");
  event.index = static_cast<int64_t>(events_.size());
  if (event.type == EventType::kInvoke && event.client != kNemesisClient) {
    REPLSIM_ASSERT_MSG(invoke_by_op_.count(event.op_id) == 0, "op_id invoked twice");
    invoke_by_op_[event.op_id] = event.index;
  }
  events_.push_back(std::move(event));
  return events_.back().index;
}

const HistoryEvent& History::at(int64_t index) const {
  REPLSIM_ASSERT(index >= 0);
  REPLSIM_ASSERT(static_cast<size_t>(index) < events_.size());
  return events_[index];
}

const HistoryEvent* History::invocation_of(const HistoryEvent& c) const {
  auto it = invoke_by_op_.find(c.op_id);
  if (it == invoke_by_op_.end()) return nullptr;
  return &events_[it->second];
}

std::string to_json(const HistoryEvent& e) {
  JsonWriter w;
  w.field("index", e.index);
  w.field("time_us", e.time_us);
  w.field("client", e.client);
  w.field("op_id", static_cast<int64_t>(e.op_id));
  w.field("type", event_type_name(e.type));
  w.field("f", e.f);
  if (!e.key.empty()) w.field("key", e.key);
  if (e.value.has_value()) {
    w.field("value", *e.value);
  } else {
    w.null_field("value");
  }
  if (!e.keys.empty()) w.field("keys", e.keys);
  if (!e.token.empty()) w.field("token", e.token);
  w.field("node", static_cast<int64_t>(e.node));
  w.field("cluster", static_cast<int64_t>(e.cluster));
  if (e.served_by_cluster != 0 || e.type == EventType::kOk) {
    w.field("served_by_cluster", static_cast<int64_t>(e.served_by_cluster));
  }
  if (e.forwarded) w.field("forwarded", true);
  w.field("epoch", static_cast<int64_t>(e.epoch));
  w.field("wal_index", static_cast<int64_t>(e.wal_index));
  if (!e.warning.empty()) w.field("warning", e.warning);
  if (!e.error.empty()) w.field("error", e.error);
  if (!e.detail.empty()) w.field("detail", e.detail);
  return w.finish();
}

void History::write_jsonl(std::ostream& out) const {
  for (const HistoryEvent& e : events_) out << to_json(e) << '\n';
}

static bool from_json(const JsonObject& o, HistoryEvent* e, std::string* error) {
  std::string type;
  if (!o.get_string("type", &type) || !parse_event_type(type, &e->type)) {
    *error = "missing or bad \"type\"";
    return false;
  }
  int64_t v = 0;
  if (!o.get_int("time_us", &e->time_us) || !o.get_int("client", &e->client)) {
    *error = "missing \"time_us\" or \"client\"";
    return false;
  }
  if (o.get_int("op_id", &v)) e->op_id = static_cast<uint64_t>(v);
  o.get_string("f", &e->f);
  o.get_string("key", &e->key);
  std::string value;
  if (o.get_string("value", &value)) e->value = value;
  o.get_string_list("keys", &e->keys);
  o.get_string("token", &e->token);
  if (o.get_int("node", &v)) e->node = static_cast<uint32_t>(v);
  if (o.get_int("cluster", &v)) e->cluster = static_cast<uint32_t>(v);
  if (o.get_int("served_by_cluster", &v)) e->served_by_cluster = static_cast<uint32_t>(v);
  o.get_bool("forwarded", &e->forwarded);
  if (o.get_int("epoch", &v)) e->epoch = static_cast<uint64_t>(v);
  if (o.get_int("wal_index", &v)) e->wal_index = static_cast<uint64_t>(v);
  o.get_string("warning", &e->warning);
  o.get_string("error", &e->error);
  o.get_string("detail", &e->detail);
  return true;
}

bool History::read_jsonl(std::istream& in, History* out, std::string* error) {
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    JsonObject o;
    std::string why;
    HistoryEvent e;
    if (!JsonObject::parse(line, &o, &why) || !from_json(o, &e, &why)) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return false;
    }
    if (!out->events_.empty() && e.time_us < out->events_.back().time_us) {
      *error = "line " + std::to_string(line_no) + ": time goes backwards";
      return false;
    }
    out->append(std::move(e));
  }
  return true;
}

std::string describe(const HistoryEvent& e) {
  char head[96];
  std::snprintf(head, sizeof(head), "#%lld t=%.6fs ", static_cast<long long>(e.index),
                static_cast<double>(e.time_us) / 1e6);
  std::ostringstream s;
  s << head;
  if (e.client == kOperatorClient) {
    s << "operator";
  } else if (e.client == kNemesisClient) {
    s << "nemesis";
  } else {
    s << "client=" << e.client;
  }
  s << ' ' << event_type_name(e.type) << ' ' << e.f;
  if (!e.key.empty()) s << ' ' << e.key;
  if (e.value.has_value()) s << " value=" << e.value->substr(0, 40);
  s << " node=" << e.node << " c" << e.cluster;
  if (e.epoch != 0 || e.wal_index != 0) s << " e" << e.epoch << '/' << e.wal_index;
  if (!e.warning.empty()) s << " warning=\"" << e.warning << '"';
  if (!e.error.empty()) s << " error=\"" << e.error << '"';
  if (!e.detail.empty()) s << " (" << e.detail << ')';
  return s.str();
}

}  // namespace replsim::harness
