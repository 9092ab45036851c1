#include "engine/replication/secondary.h"

#include <algorithm>

#include "engine/replication/credentials.h"
#include "engine/replication/envelope.h"
#include "engine/replication/epoch.h"
#include "engine/replication/wal_proto.h"
#include "proto/merkle.pb.h"

namespace replsim::replication {
namespace {
constexpr uint32_t kStreamAnswer = 100;
constexpr TimeUs kRequestRetryUs = 1 * kUsPerSec;
constexpr int kRequestAttemptsMax = 5;
}  // namespace

Secondary::Secondary(Env& env, Replica& replica, ReplicationOptions options,
                     ReplicationCounters& counters, Applied applied, StateChanged state_changed)
    : env_(env),
      replica_(replica),
      options_(options),
      counters_(counters),
      applied_fn_(std::move(applied)),
      state_fn_(std::move(state_changed)),
      alive_(std::make_shared<bool>(true)) {}

Secondary::~Secondary() {
  *alive_ = false;
  env_.cancel(reconnect_timer_);
  env_.cancel(watchdog_timer_);
  env_.cancel(activation_timer_);
  env_.cancel(request_timer_);
  for (auto& [id, w] : waiters_) {
    env_.cancel(w.timer);
    env_.schedule(0, [fn = std::move(w.fn)] { fn(false); });  // never from the destructor
  }
}

const std::string& Secondary::proof() {
  const auto& c = replica_.config();
  if (proof_.empty() || proof_credential_ != c.credential() + "|" + c.secondary_id()) {
    proof_credential_ = c.credential() + "|" + c.secondary_id();
    proof_ = credential_proof(c.secondary_id(), c.credential());
  }
  REPLSIM_ASSERT(proof_.size() == 32);  // a SHA-256
  return proof_;
}

void Secondary::set_state(proto::ReplicationState state) {
  if (state == state_) return;
  state_ = state;
  if (state_fn_) state_fn_(state_);
}

NodeId Secondary::primary_hint() const {
  if (primary_hint_.value != 0) return primary_hint_;
  const auto& nodes = replica_.config().primary_nodes();
  if (nodes.empty()) return NodeId();
  return NodeId(nodes[primary_rotation_ % nodes.size()]);
}

bool Secondary::has_state(Position at) const {
  // Ancestry, never numeric order: a sibling branch with a higher number holds none of it.
  const auto& c = replica_.config();
  return lineage_contains(c.epoch(), applied_.value, c.ancestry(), at.epoch.value, at.index.value);
}

void Secondary::start() {
  REPLSIM_ASSERT_MSG(!activation_done_, "restarted with an activation in progress");
  session_ = 0;  // completions of an earlier session are recognised as such
  auto remote = replica_.store().last_remote();
  applied_ =
      (remote && remote->epoch.value == replica_.config().epoch()) ? remote->index : WalIndex();
  submitted_ = applied_;
  reset_primary_head();
  REPLSIM_ASSERT(primary_last_wal_ == 0);
  if (replica_.config().mode() != proto::MODE_SECONDARY ||
      replica_.config().primary_nodes().empty()) {
    set_state(proto::STATE_IDLE);
    return;
  }
  backoff_us_ = 0;
  connect();
  arm_watchdog();
}

void Secondary::arm_watchdog() {
  REPLSIM_ASSERT(options_.secondary_timeout_us > 0);
  env_.cancel(watchdog_timer_);
  watchdog_timer_ = env_.schedule(options_.secondary_timeout_us, [this] {
    watchdog_timer_ = kNoTimer;
    arm_watchdog();
    if (state_ == proto::STATE_IDLE) return;
    if (env_.now_us() - last_heard_us_ > options_.secondary_timeout_us) {
      primary_hint_ = NodeId();
      primary_rotation_++;
      schedule_reconnect();
    }
  });
}

void Secondary::schedule_reconnect() {
  if (reconnect_timer_ != kNoTimer) return;
  set_state(proto::STATE_CONNECTING);
  session_ = 0;  // ignore everything of the old session meanwhile
  take_answer();
  backoff_us_ = backoff_us_ == 0 ? options_.reconnect_backoff_min_us
                                 : std::min(backoff_us_ * 2, options_.reconnect_backoff_max_us);
  REPLSIM_ASSERT(backoff_us_ > 0);
  REPLSIM_ASSERT(backoff_us_ <=
                 std::max(options_.reconnect_backoff_max_us, options_.reconnect_backoff_min_us));
  reconnect_timer_ = env_.schedule(backoff_us_, [this] {
    reconnect_timer_ = kNoTimer;
    connect();
  });
}

void Secondary::connect() {
  resume_stream(applied_.value > 0 || replica_.store().last_remote() ? WalIndex(applied_.value + 1)
                                                                     : WalIndex());
}

void Secondary::resume_stream(WalIndex from) {
  // Contiguity: streaming resumes right after what storage holds (0: reconcile first).
  REPLSIM_ASSERT(from.value == 0 || from.value == applied_.value + 1);
  NodeId target = primary_hint();
  if (target.value == 0) return set_state(proto::STATE_IDLE);
  set_state(proto::STATE_CONNECTING);
  session_ = env_.random().next_u64() | 1;
  last_heard_us_ = env_.now_us();
  proto::NodeEnvelope out;
  auto* r = out.mutable_stream_request();
  r->set_secondary_id(replica_.config().secondary_id());
  r->set_credential_proof(proof());
  r->set_epoch(replica_.config().epoch());
  r->set_from_index(from.value);
  r->set_session(session_);
  send_request(std::move(out), kStreamAnswer);
}

void Secondary::send_request(proto::NodeEnvelope out, uint32_t expected) {
  REPLSIM_ASSERT(expected != 0);
  REPLSIM_ASSERT(session_ != 0);
  env_.cancel(request_timer_);
  expected_ = expected;
  request_attempts_ = 0;
  pending_request_ = std::move(out);
  uint64_t session = session_;
  // The closure holds itself weakly (a strong self-reference is a cycle: leaked); the retry
  // timer holds it strongly, so it lives exactly as long as a retry is pending.
  auto attempt = std::make_shared<std::function<void()>>();
  *attempt = [this, session, weak = std::weak_ptr<std::function<void()>>(attempt)] {
    request_timer_ = kNoTimer;
    if (session != session_ || expected_ == 0) return;
    if (request_attempts_++ >= kRequestAttemptsMax) return schedule_reconnect();
    send_envelope(env_, primary_hint(), pending_request_);
    request_timer_ = env_.schedule(kRequestRetryUs, [self = weak.lock()] { (*self)(); });
  };
  (*attempt)();
}

void Secondary::take_answer() {
  expected_ = 0;
  env_.cancel(request_timer_);
  request_timer_ = kNoTimer;
}

bool Secondary::handle(NodeId from, const proto::NodeEnvelope& e) {
  switch (e.body_case()) {
    case proto::NodeEnvelope::kActivationResponse:
      on_activation_response(e.activation_response());
      return true;
    case proto::NodeEnvelope::kStreamResponse:
      on_stream_response(from, e.stream_response());
      return true;
    case proto::NodeEnvelope::kWalBatch:
      on_batch(from, e.wal_batch());
      return true;
    case proto::NodeEnvelope::kHeartbeat:
      on_heartbeat(from, e.heartbeat());
      return true;
    case proto::NodeEnvelope::kMerkleRound:
      on_merkle(e.merkle_round());
      return true;
    default:
      return false;
  }
}

void Secondary::on_stream_response(NodeId from, const proto::StreamResponse& r) {
  if (r.session() != session_ || session_ == 0 || expected_ != kStreamAnswer) return;
  // The stream request of this session is still unanswered: nothing moved the state on.
  REPLSIM_ASSERT_MSG(state_ == proto::STATE_CONNECTING, "a stream answer outside connecting");
  take_answer();
  last_heard_us_ = env_.now_us();
  learn_primary_head(r.primary_last_wal());
  switch (r.error()) {
    case proto::STREAM_OK:
      on_stream_accepted(from);
      return;
    case proto::STREAM_TOO_OLD:
      if (r.epoch() != replica_.config().epoch() &&
          is_ancestor(replica_.config().ancestry(), r.epoch())) {
        // A primary this lineage has moved past (deposed, not demoted): following it would
        // drop every write since. Keep asking; the operator points this cluster elsewhere.
        counters_.stale_epoch_refused++;
        primary_hint_ = NodeId();
        primary_rotation_++;
        schedule_reconnect();
        return;
      }
      primary_hint_ = from;
      target_epoch_ = r.epoch();
      target_ancestry_ = r.ancestry();
      start_reconcile();
      return;
    case proto::STREAM_DENIED:
      session_ = 0;
      set_state(proto::STATE_IDLE);
      return;
    default:
      primary_hint_ = NodeId();
      primary_rotation_++;
      schedule_reconnect();
      return;
  }
}

void Secondary::on_stream_accepted(NodeId from) {
  REPLSIM_ASSERT(session_ != 0);
  if (expected_ == kStreamAnswer) take_answer();
  primary_hint_ = from;
  backoff_us_ = 0;
  set_state(proto::STATE_STREAM_WALS);
}

void Secondary::on_batch(NodeId from, const proto::WalBatch& b) {
  if (b.session() != session_ || session_ == 0) {
    counters_.duplicate_batches_ignored++;
    return;
  }
  if (b.epoch() != replica_.config().epoch()) {
    counters_.stale_epoch_refused++;
    return;
  }
  REPLSIM_ASSERT(submitted_ >= applied_);
  last_heard_us_ = env_.now_us();
  learn_primary_head(b.primary_last_wal());
  counters_.batches_applied++;
  // Batches of this session mean the primary accepted it, even if its answer was lost.
  if (state_ == proto::STATE_CONNECTING) on_stream_accepted(from);
  batch_since_heartbeat_ = true;
  uint64_t session = session_;
  for (const auto& msg : b.entries()) {
    if (msg.index() <= submitted_.value) continue;  // duplicate
    if (msg.index() != submitted_.value + 1) {      // gap: ask again from the applied index
      schedule_reconnect();
      return;
    }
    submitted_ = WalIndex(msg.index());
    bool last = &msg == &b.entries(b.entries_size() - 1);
    std::weak_ptr<bool> alive = alive_;
    uint64_t epoch = b.epoch();
    replica_.commit_replicated(from_proto(msg), [this, alive, session, epoch, last,
                                                 index = msg.index()](Result<CommitInfo> c) {
      if (alive.expired()) return;
      if (!c.is_ok()) {
        submitted_ = applied_;
        schedule_reconnect();
        return;
      }
      if (epoch == replica_.config().epoch()) {
        // A completion of an earlier session that start() (re-activation by update-primary,
        // which re-reads the store's position) or a merkle-sync has already counted: the entry
        // is in storage, and the position must not be reported again (it would move back).
        if (session != session_ && index <= applied_.value) return;
        REPLSIM_ASSERT(index > applied_.value);
        applied_ = WalIndex(index);
        // A completion of an earlier session can land after start() reset submitted_ to the
        // store's position: submitted_ must not stay below applied_, or every batch (which
        // starts at applied_ + 1) looks like a gap and the secondary reconnects forever.
        submitted_ = std::max(submitted_, applied_);
        trim_lag_marks();
      }
      counters_.entries_applied++;
      if (applied_fn_) applied_fn_(Epoch(epoch), WalIndex(index));
      notify_waiters();
      if (last && session == session_) send_ack();
    });
  }
}

void Secondary::send_ack() {
  REPLSIM_ASSERT(session_ != 0);
  REPLSIM_ASSERT(submitted_ >= applied_);
  proto::NodeEnvelope out;
  auto* a = out.mutable_wal_ack();
  a->set_session(session_);
  a->set_secondary_id(replica_.config().secondary_id());
  a->set_applied_index(applied_.value);
  a->set_epoch(replica_.config().epoch());
  a->set_credential_proof(proof());
  send_envelope(env_, primary_hint(), out);
}

void Secondary::on_heartbeat(NodeId from, const proto::Heartbeat& h) {
  if (h.session() != session_ || session_ == 0) return;
  if (h.epoch() != replica_.config().epoch()) {
    counters_.stale_epoch_refused++;
    return;
  }
  REPLSIM_ASSERT(submitted_ >= applied_);
  last_heard_us_ = env_.now_us();
  last_heartbeat_us_ = env_.now_us();
  if (state_ == proto::STATE_CONNECTING) on_stream_accepted(from);
  learn_primary_head(h.primary_last_wal());
  if (state_ != proto::STATE_STREAM_WALS) return;
  // The last batch was lost (no later batch shows the gap): ask again.
  bool stalled =
      !batch_since_heartbeat_ && submitted_ == applied_ && h.primary_last_wal() > applied_.value;
  batch_since_heartbeat_ = false;
  stalled_heartbeats_ = stalled ? stalled_heartbeats_ + 1 : 0;
  if (stalled_heartbeats_ >= 3) {
    stalled_heartbeats_ = 0;
    connect();
  } else {
    send_ack();
  }
}

void Secondary::learn_primary_head(uint64_t index) {
  if (index <= primary_last_wal_) return;
  primary_last_wal_ = index;
  if (index <= applied_.value) return;
  if (lag_marks_.size() >= kLagMarksMax) {
    lag_marks_.back().first = index;
  } else {
    lag_marks_.emplace_back(index, env_.now_us());
  }
  REPLSIM_ASSERT(lag_marks_.size() <= kLagMarksMax);
}

void Secondary::reset_primary_head() {
  primary_last_wal_ = 0;
  lag_marks_.clear();
}

void Secondary::trim_lag_marks() {
  while (!lag_marks_.empty() && lag_marks_.front().first <= applied_.value) {
    lag_marks_.pop_front();
  }
}

TimeUs Secondary::lag_us() const {
  if (applied_.value >= primary_last_wal_ || lag_marks_.empty()) return 0;
  // The first mark above applied_ is when the oldest unapplied index was first known.
  for (const auto& [index, since_us] : lag_marks_) {
    if (index > applied_.value) return std::max<TimeUs>(0, env_.now_us() - since_us);
  }
  return 0;
}

void Secondary::wait_for(Position at, TimeUs timeout_us, std::function<void(bool)> fn) {
  REPLSIM_ASSERT(fn != nullptr);
  REPLSIM_ASSERT(timeout_us >= 0);
  if (has_state(at)) return fn(true);
  const WaiterKey key{at, next_waiter_++};
  TimerId timer = env_.schedule(timeout_us, [this, key] {
    auto it = waiters_.find(key);
    if (it == waiters_.end()) return;
    auto fn = std::move(it->second.fn);
    waiters_.erase(it);
    fn(false);
  });
  waiters_[key] = Waiter{std::move(fn), timer};
}

void Secondary::notify_waiters() {
  while (!waiters_.empty()) {
    auto it = waiters_.begin();
    if (!has_state(it->first.first)) break;  // and neither does any later key
    env_.cancel(it->second.timer);
    auto fn = std::move(it->second.fn);
    waiters_.erase(it);
    REPLSIM_ASSERT(fn != nullptr);
    fn(true);  // may add waiters; the loop re-reads begin()
  }
}

}  // namespace replsim::replication
