// run_scenario: build, set up, safety phase, liveness phase, checkers (see runner.h).
#include "sim/harness/runner.h"

#include <algorithm>
#include <memory>

#include "sim/harness/run_context.h"
#include "sim/harness/write_model.h"

namespace replsim::harness {

bool RunResult::passed() const {
  if (!error.empty()) return false;
  return std::all_of(checks.begin(), checks.end(), [](const CheckerResult& c) { return c.passed; });
}

const CheckerResult* RunResult::first_failure() const {
  for (const CheckerResult& c : checks) {
    if (!c.passed) return &c;
  }
  return nullptr;
}

std::string repro_command(const std::string& scenario_path, uint64_t seed) {
  return "replsim run " + scenario_path + " --seed " + std::to_string(seed);
}

namespace {

void sample_forever(RunContext* ctx, bool* stop) {
  if (*stop) return;
  ctx->take_samples();
  ctx->world.loop().after(ctx->cfg.phases.sample_interval_us,
                          [ctx, stop] { sample_forever(ctx, stop); });
}

// True when the latest round of snapshots shows every cluster equal to the primary.
bool converged_now(RunContext& ctx) {
  if (ctx.obs.snapshots.empty()) return false;
  const TimeUs now = ctx.obs.snapshots.back().time_us;
  const StateSnapshot* primary = nullptr;
  std::vector<const StateSnapshot*> round;
  for (auto it = ctx.obs.snapshots.rbegin(); it != ctx.obs.snapshots.rend() && it->time_us == now;
       ++it) {
    round.push_back(&*it);
    if (it->primary && (primary == nullptr || it->epoch > primary->epoch)) primary = &*it;
  }
  if (primary == nullptr || round.size() < ctx.clusters) return false;
  return std::all_of(round.begin(), round.end(), [&](const StateSnapshot* s) {
    return s->has_data && s->epoch == primary->epoch && s->data == primary->data &&
           s->merkle_root == primary->merkle_root;
  });
}

// Every byte image each cluster's disk holds (cache, durable, unsynced writes), holes skipped:
// the marker has no zero byte, so no match is lost with them.
void scan_disks(RunContext& ctx) {
  for (uint32_t c = 0; c < ctx.clusters; ++c) {
    sim::SimDisk& d = ctx.world.disk("c" + std::to_string(c));
    const std::string disk = "disk c" + std::to_string(c) + " file ";
    d.visit_stored_runs([&](const std::string& f, const char* kind, std::string_view bytes) {
      if (bytes.find(kPlaintextMarker) == std::string_view::npos) {
        ctx.obs.plaintext_scanned_bytes += bytes.size();
        return;
      }
      scan_plaintext(bytes, ctx.world.now(), disk + f + " (" + kind + ")", &ctx.obs);
    });
  }
}

void fill_result(RunContext& ctx) {
  RunResult& r = ctx.result;
  const TimeUs bucket_us = std::max<TimeUs>(ctx.cfg.phases.sample_interval_us, 1);
  for (const HistoryEvent& e : ctx.history->events()) {
    if (e.client < 0) continue;
    if (e.type == EventType::kInvoke) {
      ++r.operations;
      continue;
    }
    const size_t b = static_cast<size_t>(e.time_us / bucket_us);
    if (r.throughput.size() <= b) {
      for (size_t i = r.throughput.size(); i <= b; ++i) {
        r.throughput.push_back({static_cast<TimeUs>(i) * bucket_us, 0, 0, 0});
      }
    }
    if (e.type != EventType::kOk) {
      ++r.throughput[b].ops_failed;
    } else if (is_write_op(e.f)) {
      ++r.writes;
      ++r.throughput[b].writes_ok;
    } else if (e.f == kOpRead) {
      ++r.reads;
      ++r.throughput[b].reads_ok;
    }
    if (!e.warning.empty()) ++r.warnings;
  }
  for (const auto& [c, state] : ctx.state_now) {
    r.states.push_back({c, state, ctx.state_since[c], ctx.world.now()});
  }
  r.simulated_time_us = ctx.world.now();
  r.events = ctx.world.loop().events_run();
  r.faults = ctx.world.faults().faults();
  r.trace_hash = ctx.world.trace().hash();
  if (ctx.cfg.keep_trace_events) r.trace_events = ctx.world.trace().events();
  r.history = ctx.history;
}

}  // namespace

RunResult run_scenario(const ScenarioConfig& cfg, uint64_t seed, RunObserver* obs) {
  auto ctx = std::make_unique<RunContext>(cfg, seed, obs);
  ctx->result.seed = seed;
  ctx->result.scenario_name = cfg.name;
  build_deployment(*ctx);
  std::string error;
  if (!setup_replication(*ctx, &error)) {
    ctx->result.error = error;
    fill_result(*ctx);
    return std::move(ctx->result);
  }
  bool stop_sampling = false;
  RunContext* p = ctx.get();
  const TimeUs start = ctx->world.now();
  const TimeUs safety_end = start + cfg.phases.safety_duration_us;
  if (obs != nullptr) obs->on_phase("safety", start);
  sample_forever(p, &stop_sampling);
  start_clients(*ctx);
  schedule_faults(*ctx, start, safety_end);
  for (const OperatorAction& a : cfg.operator_actions) {
    if (start + a.at_us >= safety_end) continue;
    ctx->world.loop().at(start + a.at_us, [p, a] { start_operator_action(*p, a); });
  }
  ctx->world.run_until(safety_end);
  scan_disks(*ctx);
  heal_everything(*ctx);
  for (TimeUs after_us : {1 * kUsPerSec, 5 * kUsPerSec}) {
    ctx->world.loop().after(after_us, [p] { repair_topology(*p); });
  }
  if (obs != nullptr) obs->on_phase("liveness", ctx->world.now());
  ctx->world.run_until(safety_end + cfg.phases.liveness_writes_us);
  ctx->writes_stopped = true;
  ctx->every_sample_data = true;  // convergence compares every round's data
  const TimeUs quiesce = ctx->world.now();
  const TimeUs deadline =
      quiesce + std::max(cfg.phases.convergence_bound_us, cfg.workload.request_timeout_us);
  // Run until converged (and the last operations answered or timed out), or the deadline.
  while (ctx->world.now() < deadline && !ctx->world.event_limit_reached()) {
    ctx->world.run_for(cfg.phases.sample_interval_us);
    bool drained = ctx->world.now() >= quiesce + cfg.workload.request_timeout_us;
    if (converged_now(*ctx)) {
      if (ctx->result.converged_after_us < 0) {
        ctx->result.converged_after_us =
            std::max<TimeUs>(0, ctx->obs.snapshots.back().time_us - quiesce);
      }
      if (drained) break;
    }
    // Once converged, samples follow the usual data rule until the round at the drain, which
    // takes every cluster's data again: the loop still ends on a converged round of data.
    const TimeUs drain_us = quiesce + cfg.workload.request_timeout_us;
    ctx->every_sample_data = ctx->result.converged_after_us < 0 ||
                             ctx->world.now() + cfg.phases.sample_interval_us >= drain_us;
  }
  stop_sampling = true;
  ctx->every_sample_data = true;
  ctx->take_samples();
  scan_disks(*ctx);
  if (ctx->world.event_limit_reached()) ctx->result.error = "event limit reached (livelock?)";
  CheckContext cc;
  cc.seed = seed;
  cc.bounded = cfg.regime == FaultRegime::kBounded;
  cc.quiesce_time_us = quiesce;
  cc.convergence_bound_us = cfg.phases.convergence_bound_us;
  cc.clusters = ctx->clusters;
  ctx->result.checks = run_checkers(cfg.checkers, *ctx->history, ctx->obs, cc, &ctx->result.loss);
  fill_result(*ctx);
  ctx->result.data_values_decrypted = ctx->snapshot_cache.decrypted();
  ctx->result.data_values_reused = ctx->snapshot_cache.reused();
  ctx->result.data_snapshots_cross_checked = ctx->data_cross_checked;
  return std::move(ctx->result);
}

}  // namespace replsim::harness
