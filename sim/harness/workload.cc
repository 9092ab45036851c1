// Simulated clients: each is a node of its own with a session bound to one cluster node. It
// issues write / read / delete / list / login / token-use operations, closed loop (think time
// between operations) or open loop (Poisson arrivals, bounded outstanding), with Zipf key
// choice, and records every invocation and completion in the History.
//
// Cross-cluster token use: tokens are local to the cluster that minted them (docs/design.md §1), so
// a quarter of the token uses present a token another client minted on another cluster (when
// one exists). The History records the token used; local_stays_local fails if one is accepted,
// and counts the refusals (so "a foreign token is refused" is checked, not vacuous).
#include <map>
#include <memory>

#include "sim/harness/run_context.h"
#include "sim/harness/write_model.h"

namespace replsim::harness {
namespace {

// Tokens minted by logins, per cluster (the newest kTokensPerClusterMax), shared by every client
// of a run: the pool foreign token uses draw from.
constexpr size_t kTokensPerClusterMax = 8;
constexpr double kForeignTokenUseFraction = 0.25;
using TokenPool = std::map<uint32_t, std::vector<std::string>>;

struct SimClient {
  int64_t id = 0;
  NodeId self;
  NodeId bound;
  uint32_t cluster = 0;
  sim::Prng prng{0};
  std::unique_ptr<sim::Zipf> zipf;
  std::string token;
  uint64_t seq = 0;
  uint64_t outstanding = 0;
  proto::IndexState last_state;
  std::shared_ptr<TokenPool> tokens;
};

// A token minted on another cluster than c's, or "" when there is none yet.
std::string foreign_token(SimClient& c) {
  std::vector<const std::vector<std::string>*> others;
  for (const auto& [cluster, tokens] : *c.tokens) {
    if (cluster != c.cluster && !tokens.empty()) others.push_back(&tokens);
  }
  if (others.empty()) return "";
  const std::vector<std::string>& pick = *others[c.prng.uniform(others.size())];
  return pick[c.prng.uniform(pick.size())];
}

const char* choose_op(RunContext& ctx, SimClient& c) {
  if (c.token.empty()) return kOpLogin;
  const OperationMix& m = ctx.cfg.workload.mix;
  const double weights[] = {m.write, m.read, m.del, m.list, m.login, m.token_use};
  const char* names[] = {kOpWrite, kOpRead, kOpDelete, kOpList, kOpLogin, kOpTokenUse};
  double total = 0;
  for (double w : weights) total += w > 0 ? w : 0;
  if (total <= 0) return kOpRead;
  double x = c.prng.uniform_double() * total;
  for (int i = 0; i < 6; ++i) {
    double w = weights[i] > 0 ? weights[i] : 0;
    if (x < w) return names[i];
    x -= w;
  }
  return kOpRead;
}

// Hostile data (WorkloadConfig::hostile_data): the long paths and binary values real clients
// send. A path is a function of its rank (the same rank is the same key).
constexpr uint64_t kHostileKeyEvery = 8;
constexpr size_t kHostileKeyBytesMax = 4096;
constexpr double kHostileValueFraction = 0.1;
constexpr size_t kHostileValueBytesMax = 64 * 1024;

std::string workload_key(const WorkloadConfig& w, uint64_t rank) {
  std::string key = "kv/k" + std::to_string(rank);
  if (!w.hostile_data || rank % kHostileKeyEvery != 0) return key;
  static const char* const kPieces[] = {
      " ", "/", "%2F", "\"", "'", "..", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91",
      "~", "#", "?"};
  sim::Prng r(rank * 0x9e3779b97f4a7c15ULL + 1);
  const size_t bytes = 1024 + r.uniform(kHostileKeyBytesMax - 1024);
  key += "/";
  while (key.size() < bytes) key += kPieces[r.uniform(sizeof(kPieces) / sizeof(kPieces[0]))];
  return key;
}

std::string make_value(RunContext& ctx, SimClient& c) {
  std::string v = std::string(kPlaintextMarker) + "c" + std::to_string(c.id) + "s" +
                  std::to_string(c.seq) + "~";
  const WorkloadConfig& w = ctx.cfg.workload;
  if (w.hostile_data && c.prng.bernoulli(kHostileValueFraction)) {
    // Binary, any byte (NUL included), after the marker and the unique prefix.
    const size_t bytes = 1 + c.prng.uniform(kHostileValueBytesMax);
    for (size_t i = 0; i < bytes; ++i) v.push_back(static_cast<char>(c.prng.uniform(256)));
    return v;
  }
  static const char kHex[] = "0123456789abcdef";
  for (uint32_t i = 0; i < w.value_bytes; ++i) v += kHex[c.prng.uniform(16)];
  return v;
}

EventType classify(const std::string& f, proto::ErrorCode error) {
  if (error == proto::OK) return EventType::kOk;
  if (!is_write_op(f) && f != kOpLogin) return EventType::kFail;  // reads change nothing
  switch (error) {
    case proto::PERMISSION_DENIED:
    case proto::INVALID_ARGUMENT:
    case proto::NOT_FOUND:
      return EventType::kFail;
    default:
      return EventType::kInfo;  // it may have been applied
  }
}

void issue(RunContext& ctx, std::shared_ptr<SimClient> c);

void schedule_next(RunContext& ctx, std::shared_ptr<SimClient> c) {
  if (ctx.writes_stopped) return;
  RunContext* p = &ctx;
  const WorkloadConfig& w = ctx.cfg.workload;
  if (w.mode == LoadMode::kClosedLoop) {
    ctx.world.loop().after(w.think_time_us, [p, c] { issue(*p, c); });
    return;
  }
  double mean_us = 1e6 / (w.open_loop_ops_per_sec > 0 ? w.open_loop_ops_per_sec : 1.0);
  TimeUs gap = static_cast<TimeUs>(c->prng.exponential(mean_us)) + 1;
  ctx.world.loop().after(gap, [p, c] {
    if (p->writes_stopped) return;
    if (c->outstanding < p->cfg.workload.open_loop_outstanding_max) issue(*p, c);
    schedule_next(*p, c);
  });
}

void complete(RunContext& ctx, std::shared_ptr<SimClient> c, HistoryEvent e, TimeUs invoked,
              const proto::ClientResponse& r) {
  --c->outstanding;
  e.type = classify(e.f, r.error());
  e.value.reset();
  if (r.error() != proto::OK) {
    e.error = proto::ErrorCode_Name(r.error()) + ": " + r.error_message();
    // Refused its own token: log in again (a refused foreign token says nothing about it).
    if (r.error() == proto::PERMISSION_DENIED && e.token == c->token) c->token.clear();
  } else {
    e.epoch = r.index_state().epoch();
    e.wal_index = r.index_state().wal_index();
    if (e.f == kOpRead && r.found()) e.value = r.value();
    if (e.f == kOpList) e.keys.assign(r.keys().begin(), r.keys().end());
    if (e.f == kOpLogin) {
      c->token = e.token = r.token();
      std::vector<std::string>& minted = (*c->tokens)[c->cluster];
      minted.push_back(r.token());
      if (minted.size() > kTokensPerClusterMax) minted.erase(minted.begin());
    }
    if (is_write_op(e.f) && e.key.compare(0, 3, "kv/") == 0) c->last_state = r.index_state();
  }
  e.warning = r.warning();
  e.served_by_cluster = r.served_by_cluster();
  e.forwarded = r.forwarded();
  ctx.record(e);
  ctx.result.latencies.push_back({ctx.world.now(), e.f, ctx.world.now() - invoked,
                                  e.type == EventType::kOk, !e.warning.empty(), e.forwarded});
  if (ctx.cfg.workload.mode == LoadMode::kClosedLoop) schedule_next(ctx, c);
}

void issue(RunContext& ctx, std::shared_ptr<SimClient> c) {
  if (ctx.writes_stopped) return;
  const WorkloadConfig& w = ctx.cfg.workload;
  const char* f = choose_op(ctx, *c);
  proto::ClientRequest req;
  req.set_token(c->token);
  HistoryEvent e;
  e.client = c->id;
  e.op_id = ctx.next_op_id++;
  e.f = f;
  e.node = c->bound.value;
  e.cluster = c->cluster;
  ++c->seq;
  std::string rank = std::to_string(c->zipf->sample(c->prng));
  bool local = c->prng.bernoulli(0.1);
  std::string key = local ? "local/c" + std::to_string(c->cluster) + "/k" + rank
                          : workload_key(w, std::stoull(rank));
  if (e.f == kOpWrite) {
    e.key = key;
    e.value = make_value(ctx, *c);
    req.mutable_write()->set_path(e.key);
    req.mutable_write()->set_value(*e.value);
  } else if (e.f == kOpRead) {
    e.key = key;
    req.mutable_read()->set_path(e.key);
    if (c->last_state.epoch() != 0 && c->prng.bernoulli(w.require_index_state_fraction)) {
      *req.mutable_required_index_state() = c->last_state;
      e.epoch = c->last_state.epoch();
      e.wal_index = c->last_state.wal_index();
    }
  } else if (e.f == kOpDelete) {
    e.key = key;
    req.mutable_del()->set_path(e.key);
  } else if (e.f == kOpList) {
    e.key = "kv/";
    req.mutable_list()->set_prefix(e.key);
  } else if (e.f == kOpLogin) {
    e.key = "alice";
    req.mutable_login()->set_username("alice");
    req.mutable_login()->set_password("pw");
  } else {
    e.token = c->token;
    if (c->prng.bernoulli(kForeignTokenUseFraction)) {
      std::string foreign = foreign_token(*c);
      if (!foreign.empty()) e.token = foreign;
    }
    req.set_token(e.token);
    req.mutable_token_lookup();
  }
  ++c->outstanding;
  ctx.obs.bounds.push_back({ctx.world.now(), c->self.value, "client_outstanding", c->outstanding,
                            std::max<uint64_t>(1, w.open_loop_outstanding_max)});
  ctx.record(e);
  ClientProcess* proc = ctx.client(c->self);
  RunContext* p = &ctx;
  TimeUs invoked = ctx.world.now();
  proc->api.send(
      c->bound, std::move(req),
      [p, c, e, invoked](const proto::ClientResponse& r) { complete(*p, c, e, invoked, r); },
      w.request_timeout_us);
}

}  // namespace

void start_clients(RunContext& ctx) {
  const WorkloadConfig& w = ctx.cfg.workload;
  std::vector<NodeId> targets;
  for (uint32_t c = 0; c < ctx.clusters; ++c) {
    bool take = w.placement == ClientPlacement::kSpreadAllNodes ||
                (w.placement == ClientPlacement::kPrimaryOnly && c == 0) ||
                (w.placement == ClientPlacement::kSecondariesOnly && c != 0);
    if (take)
      targets.insert(targets.end(), ctx.cluster_nodes[c].begin(), ctx.cluster_nodes[c].end());
  }
  if (targets.empty()) targets = ctx.cluster_nodes[0];
  auto tokens = std::make_shared<TokenPool>();
  for (uint32_t i = 0; i < w.clients; ++i) {
    auto c = std::make_shared<SimClient>();
    c->tokens = tokens;
    c->id = i;
    c->self = NodeId(kClientNodeBase + i);
    c->bound = targets[(i * 7919u) % targets.size()];
    c->cluster = ctx.cluster_of[c->bound];
    c->prng = ctx.world.random().child("client/" + std::to_string(i));
    c->zipf = std::make_unique<sim::Zipf>(std::max<uint64_t>(1, w.keys), w.zipf_exponent);
    RunContext* p = &ctx;
    TimeUs start = static_cast<TimeUs>(c->prng.uniform(10'000));
    ctx.world.loop().after(start, [p, c] {
      issue(*p, c);
      if (p->cfg.workload.mode == LoadMode::kOpenLoop) schedule_next(*p, c);
    });
  }
}

}  // namespace replsim::harness
