// Operator actions (promote, demote, update-primary, planned and unplanned failover, status),
// run asynchronously from the event loop and recorded in the History with client = operator.
#include <memory>

#include "sim/harness/run_context.h"

namespace replsim::harness {

const char* operator_action_name(OperatorActionKind kind) {
  switch (kind) {
    case OperatorActionKind::kPromote:
      return "promote";
    case OperatorActionKind::kDemote:
      return "demote";
    case OperatorActionKind::kUpdatePrimary:
      return "update_primary";
    case OperatorActionKind::kFailover:
      return "failover";
    case OperatorActionKind::kUnplannedFailover:
      return "unplanned_failover";
    case OperatorActionKind::kStatus:
      return "status";
    case OperatorActionKind::kRogueJoin:
      return "rogue_join";
  }
  return "?";
}

void operator_call(RunContext& ctx, const char* f, uint32_t c, proto::OperatorRequest request,
                   std::function<void(const proto::OperatorResponse&)> done) {
  HistoryEvent e;
  e.client = kOperatorClient;
  e.op_id = ctx.next_op_id++;
  e.f = f;
  e.node = ctx.route_node(c).value;
  e.cluster = c;
  ctx.record(e);
  ClientProcess* op = ctx.client(NodeId(kOperatorNode));
  REPLSIM_ASSERT(op != nullptr);
  RunContext* p = &ctx;
  op->api.send_operator(
      NodeId(e.node), std::move(request),
      [p, e, done](const proto::OperatorResponse& r) mutable {
        e.type = r.error() == proto::OK        ? EventType::kOk
                 : r.error() == proto::TIMEOUT ? EventType::kInfo
                                               : EventType::kFail;
        if (r.error() != proto::OK)
          e.error = proto::ErrorCode_Name(r.error()) + ": " + r.error_message();
        e.epoch = r.status().epoch();
        e.detail = r.status().mode();
        p->record(e);
        if (done) done(r);
      },
      30 * kUsPerSec);
}

// The start record of `epoch`, or null.
static const EpochStart* start_of(const RunContext& ctx, uint64_t epoch) {
  for (const EpochStart& e : ctx.obs.epochs) {
    if (e.epoch == epoch) return &e;
  }
  return nullptr;
}

// The primary the operator last made: of the clusters acting as a primary, the one whose epoch
// started last (epoch numbers are not ordered in time: two promotions a few ms apart). When no
// cluster acts as a primary, the primary cluster of the last epoch started. 0 before any.
static uint32_t primary_cluster(RunContext& ctx) {
  const EpochStart* head = nullptr;
  for (uint32_t c = 0; c < ctx.clusters; ++c) {
    cluster::Node* n = ctx.active_node(c);
    if (n == nullptr || n->status().mode() != "primary") continue;
    const EpochStart* e = start_of(ctx, n->epoch().value);
    if (e != nullptr && (head == nullptr || e->time_us >= head->time_us)) head = e;
  }
  if (head == nullptr && !ctx.obs.epochs.empty()) head = &ctx.obs.epochs.back();
  return head == nullptr ? 0 : head->primary_cluster;
}

static void promote(RunContext& ctx, uint32_t target, bool planned, uint32_t old_primary);

// Repoints made by the liveness repair retry a refused update-primary (an activation of an
// earlier repoint still in progress, a primary not reachable yet) this often, this many times.
constexpr TimeUs kRepointRetryUs = 2 * kUsPerSec;
constexpr int kRepointRetriesMax = 8;

// Points cluster `c` at `primary` with a fresh token from it; a refusal is retried
// `retries_left` times while `primary` is still the primary the operator last made.
static void repoint(RunContext& ctx, uint32_t c, uint32_t primary, int retries_left = 0) {
  proto::OperatorRequest req;
  req.mutable_secondary_token()->set_id("c" + std::to_string(c));
  RunContext* p = &ctx;
  auto retry = [p, c, primary, retries_left] {
    if (retries_left <= 0) return;
    p->world.loop().after(kRepointRetryUs, [p, c, primary, retries_left] {
      if (primary_cluster(*p) != primary) return;
      cluster::Node* n = p->active_node(c);
      cluster::Node* head = p->active_node(primary);
      if (n != nullptr && head != nullptr && n->status().mode() == "secondary" &&
          n->status().state() == "stream-wals" && n->epoch() == head->epoch()) {
        return;  // following it already
      }
      repoint(*p, c, primary, retries_left - 1);
    });
  };
  operator_call(
      ctx, "secondary_token", primary, req, [p, c, retry](const proto::OperatorResponse& r) {
        if (r.error() != proto::OK) return retry();
        proto::OperatorRequest up;
        up.mutable_update_primary()->set_token(r.token());
        operator_call(*p, "update_primary", c, up, [retry](const proto::OperatorResponse& u) {
          if (u.error() != proto::OK) retry();
        });
      });
}

// Points every cluster but `primary` and `except` at `primary`; a cluster still acting as an
// (old) primary is demoted first, as an operator does after a failover.
static void update_others(RunContext& ctx, uint32_t primary, uint32_t except,
                          int retries_left = 0) {
  for (uint32_t c = 0; c < ctx.clusters; ++c) {
    if (c == primary || c == except) continue;
    cluster::Node* n = ctx.active_node(c);
    if (n != nullptr && n->status().mode() == "primary") {
      proto::OperatorRequest req;
      req.mutable_demote();
      RunContext* p = &ctx;
      operator_call(ctx, "demote", c, req,
                    [p, c, primary, retries_left](const proto::OperatorResponse&) {
                      repoint(*p, c, primary, retries_left);
                    });
    } else {
      repoint(ctx, c, primary, retries_left);
    }
  }
}

// The highest index `epoch`'s primary committed.
static uint64_t committed_head(RunContext& ctx, uint64_t epoch) {
  uint64_t head = 0;
  for (const PositionRecord& r : ctx.obs.positions) {
    if (r.committed && r.epoch == epoch && r.index > head) head = r.index;
  }
  return head;
}

// Follows the lineage, never the epoch number: the head is the primary the operator last made
// (primary_cluster). If it acts as a primary, every other cluster is pointed at it (other
// primaries, on sibling branches, are demoted first: their writes past the fork are the loss
// of the unplanned promotion that made the head). If it was demoted and never replaced, it is
// promoted again; that promotion is planned (nothing may be lost) only if the cluster still
// holds its epoch's whole committed history.
void repair_topology(RunContext& ctx) {
  if (ctx.obs.epochs.empty()) return;
  const uint32_t head_cluster = primary_cluster(ctx);
  cluster::Node* head = ctx.active_node(head_cluster);
  if (head != nullptr && head->status().mode() != "primary") {
    const auto [epoch, index] = ctx.epoch_log.held(head_cluster);
    promote(ctx, head_cluster, index >= committed_head(ctx, epoch), head_cluster);
    return;
  }
  const uint64_t head_epoch = head != nullptr ? head->epoch().value : 0;
  bool all_following = true;
  for (uint32_t c = 0; c < ctx.clusters; ++c) {
    cluster::Node* n = ctx.active_node(c);
    if (c == head_cluster || n == nullptr) continue;
    if (n->epoch().value != head_epoch || n->status().mode() != "secondary") {
      all_following = false;
    }
  }
  if (!all_following) update_others(ctx, head_cluster, UINT32_MAX, kRepointRetriesMax);
}

static void promote(RunContext& ctx, uint32_t target, bool planned, uint32_t old_primary) {
  ctx.planned_promotion[target] = planned;
  proto::OperatorRequest req;
  req.mutable_promote();
  RunContext* p = &ctx;
  operator_call(ctx, "promote", target, req,
                [p, target, old_primary](const proto::OperatorResponse& r) {
                  if (r.error() != proto::OK) return;
                  p->take_samples();  // records the new epoch with its fork index
                  update_others(*p, target, UINT32_MAX);
                });
}

// Planned failover: poll (every 100 ms, `polls_left` times) until `target` applied the old
// primary's head, then promote. A promotion without catch-up is recorded as unplanned.
static void await_catch_up(RunContext& ctx, uint32_t target, uint32_t old_primary, int polls_left) {
  // The old primary's epoch, and what the target holds of it (the lineage, not the highest
  // epoch number).
  uint64_t epoch = 0;
  if (cluster::Node* n = ctx.active_node(old_primary)) epoch = n->epoch().value;
  const auto held = ctx.epoch_log.held(target);
  bool caught_up = epoch != 0 && held.first == epoch && held.second >= committed_head(ctx, epoch);
  if (caught_up || polls_left <= 0) {
    promote(ctx, target, caught_up, old_primary);
    return;
  }
  RunContext* p = &ctx;
  ctx.world.loop().after(100'000, [p, target, old_primary, polls_left] {
    await_catch_up(*p, target, old_primary, polls_left - 1);
  });
}

void start_operator_action(RunContext& ctx, const OperatorAction& a) {
  proto::OperatorRequest req;
  RunContext* p = &ctx;
  const uint32_t target = a.cluster % ctx.clusters;
  const uint32_t old_primary = primary_cluster(ctx);
  switch (a.kind) {
    case OperatorActionKind::kStatus:
      req.mutable_status();
      operator_call(ctx, "status", target, req, nullptr);
      return;
    case OperatorActionKind::kDemote:
      req.mutable_demote();
      operator_call(ctx, "demote", target, req, nullptr);
      return;
    case OperatorActionKind::kPromote:
    case OperatorActionKind::kUnplannedFailover:
      if (target == old_primary) return;
      promote(ctx, target, false, old_primary);
      return;
    case OperatorActionKind::kUpdatePrimary: {
      const uint32_t primary = a.primary_cluster % ctx.clusters;
      if (primary == target) return;
      req.mutable_secondary_token()->set_id("c" + std::to_string(target));
      operator_call(ctx, "secondary_token", primary, req,
                    [p, target](const proto::OperatorResponse& r) {
                      if (r.error() != proto::OK) return;
                      proto::OperatorRequest up;
                      up.mutable_update_primary()->set_token(r.token());
                      operator_call(*p, "update_primary", target, up, nullptr);
                    });
      return;
    }
    case OperatorActionKind::kRogueJoin:
      start_rogue_join(ctx, old_primary, a.at_us);
      return;
    case OperatorActionKind::kFailover:
      if (target == old_primary) return;
      // Planned: demote the primary, let the target catch up, then promote it.
      req.mutable_demote();
      operator_call(ctx, "demote", old_primary, req,
                    [p, target, old_primary](const proto::OperatorResponse& r) {
                      if (r.error() != proto::OK) return;
                      await_catch_up(*p, target, old_primary, 100);
                    });
      return;
  }
}

}  // namespace replsim::harness
