// The rogue cluster's join attempts (OperatorActionKind::kRogueJoin). The rogue cluster is
// deployed like any other (own disk, same node count) but never activated. Each attempt asks
// its active node to enable-secondary with a token an attacker could hold:
//   forged   — well formed (the real primary's nodes, a real secondary id) with a random secret;
//   replayed — the token a real secondary already used at setup (single use);
//   expired  — a genuine token issued with a 1 ms TTL, presented once every clock of the
//              primary cluster reads past its expiry (clocks are skewed and may jump back);
//   rebound  — a genuine unused token whose secondary id was rewritten (a token is bound to
//              the id it was issued for).
// Each is recorded as "rogue_join:<how>"; the security checker fails on any that succeeds and
// on any replicated data the rogue cluster receives.
#include <algorithm>

#include "engine/replication/messenger.h"
#include "proto/replication.pb.h"
#include "sim/harness/run_context.h"

namespace replsim::harness {
namespace {

constexpr TimeUs kExpiredTokenTtlUs = 1'000;
// The expired token is presented once every clock of the primary cluster reads past the
// latest expiry any of its nodes can have set (clocks have offsets, and a backward clock jump
// stalls a clock: expiry is the issuing cluster's own clock's business, not global time),
// polling every kExpiredTokenPollUs, at most kExpiredTokenPollsMax times (then the attempt is
// skipped: it could not be presented as expired).
constexpr TimeUs kExpiredTokenPollUs = 100'000;
constexpr int kExpiredTokenPollsMax = 100;

// The ActivationToken inside the hex string `token`; nullopt if it is not one.
std::optional<proto::ActivationToken> decode_token(const std::string& token) {
  auto bytes = replication::from_hex(token);
  proto::ActivationToken t;
  if (!bytes.is_ok() || !t.ParseFromString(bytes.value())) return std::nullopt;
  return t;
}

std::string encode_token(const proto::ActivationToken& t) {
  std::string bytes;
  t.SerializeToString(&bytes);
  return replication::to_hex(bytes);
}

// Asks the rogue's active node to enable-secondary with `token`, then runs `next` (attempts
// go one at a time: a node refuses a second activation while one is in progress).
void try_join(RunContext& ctx, const std::string& how, const std::string& token,
              std::function<void()> next) {
  proto::OperatorRequest req;
  req.mutable_enable_secondary()->set_token(token);
  operator_call(ctx, ("rogue_join:" + how).c_str(), ctx.rogue, req,
                [next](const proto::OperatorResponse&) {
                  if (next) next();
                });
}

// Issues a genuine token from `primary` for `id` with `ttl_us`, then calls `use` with it.
void with_fresh_token(RunContext& ctx, uint32_t primary, const std::string& id, TimeUs ttl_us,
                      std::function<void(const std::string&)> use) {
  proto::OperatorRequest req;
  req.mutable_secondary_token()->set_id(id);
  req.mutable_secondary_token()->set_ttl_us(ttl_us);
  operator_call(ctx, "secondary_token", primary, req, [use](const proto::OperatorResponse& r) {
    if (r.error() == proto::OK) use(r.token());
  });
}

// The latest reading of the clocks of `cluster`'s nodes.
TimeUs latest_clock_us(RunContext& ctx, uint32_t cluster) {
  TimeUs latest = 0;
  for (NodeId id : ctx.cluster_nodes[cluster]) {
    latest = std::max(latest, ctx.world.clock(id).now_us(ctx.world.now()));
  }
  return latest;
}

// Runs `present` once every clock of `cluster` reads at least `expired_at_us`; `skip` if that
// does not happen within the poll bound.
void when_expired(RunContext& ctx, uint32_t cluster, TimeUs expired_at_us, int polls_left,
                  std::function<void()> present, std::function<void()> skip) {
  TimeUs earliest = INT64_MAX;
  for (NodeId id : ctx.cluster_nodes[cluster]) {
    earliest = std::min(earliest, ctx.world.clock(id).now_us(ctx.world.now()));
  }
  if (earliest >= expired_at_us) return present();
  if (polls_left <= 0) return skip();
  RunContext* p = &ctx;
  ctx.world.loop().after(kExpiredTokenPollUs, [=] {
    when_expired(*p, cluster, expired_at_us, polls_left - 1, present, skip);
  });
}

// A copy of the used setup token with a random secret of the same length.
std::string forge(RunContext& ctx, uint64_t attempt) {
  auto t = decode_token(ctx.setup_token);
  if (!t) return "";
  sim::Prng r = ctx.world.random().child("rogue-join").child(attempt);
  std::string secret;
  for (size_t i = 0; i < t->secret().size(); ++i) {
    secret.push_back(static_cast<char>(r.next_u64() & 0xff));
  }
  t->set_secret(secret);
  return encode_token(*t);
}

}  // namespace

void start_rogue_join(RunContext& ctx, uint32_t primary, uint64_t attempt) {
  if (ctx.rogue == UINT32_MAX || ctx.setup_token.empty()) return;  // nothing to attack with
  RunContext* p = &ctx;
  auto rebound = [p, primary] {
    with_fresh_token(*p, primary, "rogue-bait", 0, [p](const std::string& token) {
      auto t = decode_token(token);
      if (!t) return;
      t->set_secondary_id("c1");  // the id of a real secondary
      try_join(*p, "rebound", encode_token(*t), nullptr);
    });
  };
  auto expired = [p, primary, rebound] {
    const TimeUs issued_at_us = latest_clock_us(*p, primary);
    with_fresh_token(
        *p, primary, "rogue-expired", kExpiredTokenTtlUs,
        [p, primary, rebound, issued_at_us](const std::string& token) {
          // Issued after issued_at_us on every clock: expired on each once its
          // reading passes the latest reading at the answer + the TTL.
          const TimeUs expired_at = std::max(issued_at_us, latest_clock_us(*p, primary)) +
                                    kExpiredTokenTtlUs + kExpiredTokenPollUs;
          when_expired(
              *p, primary, expired_at, kExpiredTokenPollsMax,
              [p, token, rebound] { try_join(*p, "expired", token, rebound); }, rebound);
        });
  };
  try_join(ctx, "replayed", ctx.setup_token,
           [p, attempt, expired] { try_join(*p, "forged", forge(*p, attempt), expired); });
}

}  // namespace replsim::harness
