// Forwarder without a simulated world: a fake Env with a manual clock records what is sent.
#include "engine/cluster/forwarder.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace replsim::cluster {
namespace {

class NoFileSystem : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string&, bool) override {
    return Status::unavailable("no file system in this test");
  }
  bool exists(const std::string&) const override { return false; }
  Status remove(const std::string&) override { return Status::unavailable("none"); }
  Status rename(const std::string&, const std::string&) override {
    return Status::unavailable("none");
  }
  void sync_dir(IoCallback done) override { done(Status::unavailable("none")); }
  std::vector<std::string> list(const std::string&) const override { return {}; }
};

class CountingRandom : public Random {
 public:
  uint64_t next_u64() override { return ++n_ * 0x9e3779b97f4a7c15ull; }

 private:
  uint64_t n_ = 0;
};

// Timers fire in (time, id) order when the test advances the clock.
class FakeEnv : public Env {
 public:
  struct Sent {
    NodeId to;
    proto::NodeEnvelope envelope;
  };
  NodeId self() const override { return NodeId(7); }
  TimeUs now_us() const override { return now_us_; }
  TimerId schedule(TimeUs delay_us, std::function<void()> fn) override {
    TimerId id = next_timer_++;
    timers_[{now_us_ + delay_us, id}] = std::move(fn);
    return id;
  }
  void cancel(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  void send(NodeId to, std::string payload) override {
    Sent s{to, {}};
    EXPECT_TRUE(s.envelope.ParseFromString(payload));
    sent.push_back(std::move(s));
  }
  void set_receiver(std::function<void(NodeId, std::string)>) override {}
  FileSystem& fs() override { return fs_; }
  Random& random() override { return random_; }
  bool buggify(std::string_view) override { return false; }

  void advance(TimeUs us) {
    const TimeUs until = now_us_ + us;
    while (!timers_.empty() && timers_.begin()->first.first <= until) {
      auto it = timers_.begin();
      now_us_ = it->first.first;
      auto fn = std::move(it->second);
      timers_.erase(it);
      fn();
    }
    now_us_ = until;
  }
  size_t timers() const { return timers_.size(); }

  std::vector<Sent> sent;

 private:
  TimeUs now_us_ = 0;
  TimerId next_timer_ = 1;
  std::map<std::pair<TimeUs, TimerId>, std::function<void()>> timers_;
  NoFileSystem fs_;
  CountingRandom random_;
};

constexpr TimeUs kTimeoutUs = 5 * kUsPerSec;
constexpr TimeUs kRetryUs = 500 * kUsPerMs;

proto::ForwardRequest write_request(uint64_t request_id) {
  proto::ForwardRequest fwd;
  fwd.mutable_request()->set_request_id(request_id);
  fwd.mutable_request()->mutable_write()->set_path("a");
  return fwd;
}

proto::ForwardResponse answer_for(uint64_t forward_id) {
  proto::ForwardResponse resp;
  resp.set_forward_id(forward_id);
  resp.mutable_response()->set_request_id(1);
  return resp;
}

struct Outcomes {
  int answers = 0;
  int timeouts = 0;
};

void forward_counted(Forwarder& f, proto::ForwardRequest fwd, Outcomes& o) {
  f.forward([](uint32_t attempt) { return NodeId(10 + attempt); }, std::move(fwd),
            [&o](const proto::ForwardResponse&) { o.answers++; }, [&o] { o.timeouts++; });
}

TEST(Forwarder, ResendsWithOneIdUntilAnsweredThenAnswersExactlyOnce) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(101);
  Outcomes o;
  forward_counted(f, write_request(1), o);
  env.advance(2 * kRetryUs);
  ASSERT_EQ(env.sent.size(), 3u);
  for (size_t i = 0; i < env.sent.size(); ++i) {
    EXPECT_EQ(env.sent[i].to, NodeId(10 + i));  // target(attempt) for each resend
    EXPECT_EQ(env.sent[i].envelope.forward_request().forward_id(), 101u);
  }
  f.on_response(answer_for(101));
  f.on_response(answer_for(101));  // a duplicate answer
  env.advance(2 * kTimeoutUs);
  EXPECT_EQ(o.answers, 1);
  EXPECT_EQ(o.timeouts, 0);
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(env.sent.size(), 3u);  // no resend after the answer
  EXPECT_EQ(env.timers(), 0u);
}

TEST(Forwarder, UnansweredForwardTimesOutOnceAndIgnoresLateAnswers) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(5);
  Outcomes o;
  forward_counted(f, write_request(1), o);
  env.advance(kTimeoutUs);
  EXPECT_EQ(o.timeouts, 1);
  f.on_response(answer_for(5));
  EXPECT_EQ(o.answers, 0);
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(f.requests_forwarded(), 1u);
}

TEST(Forwarder, ResendsOfOneForwardShareOneRelayAnsweredUnderTheSendersId) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(1001);
  proto::ForwardRequest fwd = write_request(9);
  fwd.set_forward_id(33);
  auto target = [](uint32_t) { return NodeId(20); };
  EXPECT_TRUE(f.relay(NodeId(3), fwd, target));
  EXPECT_FALSE(f.relay(NodeId(3), fwd, target));  // the sender's resend
  EXPECT_EQ(f.pending(), 1u);
  EXPECT_EQ(f.relays(), 1u);
  ASSERT_EQ(env.sent.size(), 1u);
  EXPECT_EQ(env.sent[0].envelope.forward_request().forward_id(), 1001u);
  EXPECT_EQ(env.sent[0].envelope.forward_request().hops(), fwd.hops() + 1);
  f.on_response(answer_for(1001));
  ASSERT_EQ(env.sent.size(), 2u);
  EXPECT_EQ(env.sent[1].to, NodeId(3));
  EXPECT_EQ(env.sent[1].envelope.forward_response().forward_id(), 33u);
  EXPECT_EQ(f.relays(), 0u);
  EXPECT_EQ(f.pending(), 0u);
}

TEST(Forwarder, ARequestBouncedBackToANodeForwardingItIsNotRelayedAgain) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(1);
  Outcomes o;
  forward_counted(f, write_request(42), o);
  proto::ForwardRequest bounced = write_request(42);
  bounced.set_forward_id(77);
  EXPECT_FALSE(f.relay(NodeId(3), bounced, [](uint32_t) { return NodeId(20); }));
  proto::ForwardRequest other = write_request(43);
  other.set_forward_id(78);
  EXPECT_TRUE(f.relay(NodeId(3), other, [](uint32_t) { return NodeId(20); }));
  EXPECT_EQ(f.pending(), 2u);
}

TEST(Forwarder, ARelayPastTheHopLimitIsDroppedAndATimedOutRelayAnswersNobody) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(1);
  proto::ForwardRequest fwd = write_request(1);
  fwd.set_hops(kForwardHopsMax);
  EXPECT_FALSE(f.relay(NodeId(3), fwd, [](uint32_t) { return NodeId(20); }));
  fwd.set_hops(0);
  EXPECT_TRUE(f.relay(NodeId(3), fwd, [](uint32_t) { return NodeId(20); }));
  size_t sent = env.sent.size();
  env.advance(kTimeoutUs);
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(f.relays(), 0u);
  for (size_t i = sent; i < env.sent.size(); ++i) {
    EXPECT_FALSE(env.sent[i].envelope.has_forward_response());
  }
}

TEST(Forwarder, ResendsOfAForwardBeingHandledAreDroppedUntilItIsAnswered) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  EXPECT_TRUE(f.begin_handling(NodeId(3), 9));
  EXPECT_FALSE(f.begin_handling(NodeId(3), 9));
  EXPECT_TRUE(f.begin_handling(NodeId(4), 9));  // another sender's forward 9
  f.end_handling(NodeId(3), 9);
  EXPECT_TRUE(f.begin_handling(NodeId(3), 9));
  f.clear_handling();
  EXPECT_EQ(f.handling(), 0u);
}

TEST(Forwarder, EveryOwnSendPassesThroughBeforeSendButRelaysDoNot) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(1);
  int signed_sends = 0;
  f.set_before_send([&](proto::ForwardRequest* fwd) {
    signed_sends++;
    fwd->set_credential_proof("proof" + std::to_string(signed_sends));
  });
  Outcomes o;
  forward_counted(f, write_request(1), o);
  env.advance(kRetryUs);
  EXPECT_EQ(signed_sends, 2);
  EXPECT_EQ(env.sent.back().envelope.forward_request().credential_proof(), "proof2");
  proto::ForwardRequest fwd = write_request(2);
  fwd.set_forward_id(5);
  EXPECT_TRUE(f.relay(NodeId(3), fwd, [](uint32_t) { return NodeId(20); }));
  EXPECT_EQ(signed_sends, 2);
}

TEST(ForwarderDeathTest, StartingWithForwardsPendingIsABrokenInvariant) {
  FakeEnv env;
  Forwarder f(env, kTimeoutUs, kRetryUs);
  f.start(1);
  Outcomes o;
  forward_counted(f, write_request(1), o);
  EXPECT_DEATH(f.start(99), "forwards_.empty");
}

}  // namespace
}  // namespace replsim::cluster
