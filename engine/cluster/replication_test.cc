// Replication behaviours in simulation (issue 5): each test names the property it proves.
#include <gtest/gtest.h>

#include "engine/cluster/testing/topology.h"
#include "engine/replication/messenger.h"
#include "proto/replication.pb.h"

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

TopologyOptions three_clusters(uint64_t seed) {
  TopologyOptions o;
  o.seed = seed;
  o.clusters = 3;
  o.nodes_per_cluster = 2;
  return o;
}

TEST(Replication, ActivationAndStreamingWithoutFaults) {
  Topology t(three_clusters(1));
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  ASSERT_FALSE(token.empty());
  for (int i = 0; i < 50; ++i) {
    auto r = t.write(t.node_id(0, 0), token, "kv/k" + std::to_string(i), "v" + std::to_string(i));
    ASSERT_EQ(r.error(), proto::OK) << r.error_message();
    EXPECT_GT(r.wal_index(), 0u);
    EXPECT_GT(r.index_state().epoch(), 0u);
  }
  ASSERT_TRUE(t.run_until(
      [&] {
        auto p = t.active(0)->replicated_snapshot();
        for (int c = 1; c < 3; ++c) {
          if (t.active(c)->replicated_snapshot() != p) return false;
        }
        return true;
      },
      10 * kUsPerSec));
  auto snap = *t.active(1)->replicated_snapshot();
  EXPECT_EQ(snap.at("kv/k7"), "v7");
  for (int c = 1; c < 3; ++c) {
    EXPECT_EQ(t.active(c)->merkle_root_hex(), t.active(0)->merkle_root_hex());
    EXPECT_EQ(t.state(c), "stream-wals");
    auto s = t.active(c)->status();
    EXPECT_EQ(s.mode(), "secondary");
    EXPECT_EQ(s.last_remote_wal(), t.active(0)->last_wal().value);
  }
  auto ps = t.active(0)->status();
  EXPECT_EQ(ps.mode(), "primary");
  ASSERT_EQ(ps.known_secondaries_size(), 2);
  EXPECT_EQ(ps.known_secondaries(0).connection_status(), "connected");
  EXPECT_GT(ps.known_secondaries(0).last_heartbeat_us(), 0);
}

}  // namespace
}  // namespace replsim::cluster

namespace replsim::cluster {
namespace {

using testkit::Topology;
using testkit::TopologyOptions;

// Records every message delivered to it.
class Recorder : public sim::Process {
 public:
  explicit Recorder(Env& env) : env(env) {
    env.set_receiver([this](NodeId, std::string p) { received.push_back(std::move(p)); });
  }
  Env& env;
  std::vector<std::string> received;
};

void write_many(Topology& t, NodeId to, const std::string& token, int from, int count) {
  for (int i = from; i < from + count; ++i) {
    auto r = t.write(to, token, "kv/" + std::to_string(i), "value-" + std::to_string(i));
    ASSERT_EQ(r.error(), proto::OK) << r.error_message();
  }
}

bool converged(Topology& t, int a, int b) {
  Node* na = t.active(a);
  Node* nb = t.active(b);
  return na && nb && na->replicated_snapshot() == nb->replicated_snapshot() &&
         na->merkle_root_hex() == nb->merkle_root_hex();
}

// An activation token is single use: a retry of the activation that used it (same session,
// its answer lost) gets the answer again, but a replay of the used token from another
// session is refused — even one that claims the same secondary and cluster id.
TEST(Replication, UsedActivationTokenAnswersOnlyTheRetriesOfItsOwnSession) {
  Topology t(three_clusters(4));
  ASSERT_TRUE(t.setup_replication());
  proto::OperatorRequest req;
  req.mutable_secondary_token()->set_id("secondary-x");
  proto::OperatorResponse issued = t.op(t.active_id(0), req);
  ASSERT_EQ(issued.error(), proto::OK) << issued.error_message();
  auto bytes = replication::from_hex(issued.token());
  proto::ActivationToken token;
  ASSERT_TRUE(bytes.is_ok() && token.ParseFromString(bytes.value()));
  Recorder* owner = nullptr;
  Recorder* thief = nullptr;
  t.world().add_node(NodeId(7), "", [&](Env& env) {
    auto r = std::make_unique<Recorder>(env);
    owner = r.get();
    return r;
  });
  t.world().add_node(NodeId(8), "", [&](Env& env) {
    auto r = std::make_unique<Recorder>(env);
    thief = r.get();
    return r;
  });
  auto activate = [&](Recorder* from, uint64_t session) {
    proto::NodeEnvelope e;
    auto* a = e.mutable_activation_request();
    a->set_secondary_id("secondary-x");
    a->set_secret_proof(replication::sha256("proof|" + token.secret()));
    a->set_cluster_id(9);
    a->set_session(session);
    from->env.send(t.active_id(0), e.SerializeAsString());
    t.world().run_for(1 * kUsPerSec);
  };
  auto last_answer = [](Recorder* r) {
    proto::NodeEnvelope e;
    EXPECT_FALSE(r->received.empty());
    if (!r->received.empty()) EXPECT_TRUE(e.ParseFromString(r->received.back()));
    return e.activation_response();
  };
  activate(owner, 11);
  EXPECT_EQ(last_answer(owner).error(), proto::OK);
  activate(owner, 11);  // the owner's retry
  EXPECT_EQ(last_answer(owner).error(), proto::OK);
  EXPECT_FALSE(last_answer(owner).wrapped_credential().empty());
  activate(thief, 12);  // a replay from another session with the same ids
  EXPECT_EQ(last_answer(thief).error(), proto::PERMISSION_DENIED);
  EXPECT_TRUE(last_answer(thief).wrapped_credential().empty());
  EXPECT_EQ(last_answer(thief).error_message(), "activation token already used");
}

TEST(Replication, RogueNodeWithoutTokenGetsNothing) {
  Topology t(three_clusters(2));
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  Recorder* rogue = nullptr;
  t.world().add_node(NodeId(7), "", [&](Env& env) {
    auto r = std::make_unique<Recorder>(env);
    rogue = r.get();
    return r;
  });
  NodeId primary = t.active_id(0);
  auto send = [&](const proto::NodeEnvelope& e) {
    rogue->env.send(primary, e.SerializeAsString());
  };
  proto::NodeEnvelope stream;
  stream.mutable_stream_request()->set_secondary_id("secondary-1");  // a real id, no credential
  stream.mutable_stream_request()->set_from_index(1);
  stream.mutable_stream_request()->set_session(5);
  send(stream);
  proto::NodeEnvelope act;
  act.mutable_activation_request()->set_secondary_id("secondary-1");
  act.mutable_activation_request()->set_secret_proof("guess");
  send(act);
  proto::NodeEnvelope merkle;
  merkle.mutable_merkle_round()->set_kind(5);
  merkle.mutable_merkle_round()->set_secondary_id("secondary-1");
  send(merkle);
  // A forged cross-cluster forward (no credential) is refused: nothing is written.
  proto::NodeEnvelope forged;
  auto* fwd = forged.mutable_forward_request();
  fwd->set_forward_id(1);
  fwd->set_origin_cluster(99);
  fwd->set_secondary_id("secondary-1");
  fwd->mutable_request()->set_request_id(4242);
  fwd->mutable_request()->mutable_write()->set_path("kv/forged");
  fwd->mutable_sealed()->set_path("kv/forged");
  fwd->mutable_sealed()->set_ciphertext("x");
  send(forged);
  write_many(t, primary, token, 0, 20);
  t.world().run_for(3 * kUsPerSec);
  EXPECT_EQ(t.active(0)->replicated_snapshot()->count("kv/forged"), 0u);
  bool refused = false;
  for (const std::string& p : rogue->received) {
    proto::NodeEnvelope e;
    if (e.ParseFromString(p) && e.has_forward_response()) {
      refused = e.forward_response().response().error() == proto::PERMISSION_DENIED;
    }
  }
  EXPECT_TRUE(refused);
  for (const std::string& p : rogue->received) {
    proto::NodeEnvelope e;
    ASSERT_TRUE(e.ParseFromString(p));
    EXPECT_FALSE(e.has_wal_batch());
    EXPECT_FALSE(e.has_heartbeat());
    if (e.has_activation_response()) {
      EXPECT_EQ(e.activation_response().error(), proto::PERMISSION_DENIED);
      EXPECT_TRUE(e.activation_response().wrapped_keyring().empty());
    }
    if (e.has_stream_response()) {
      EXPECT_EQ(e.stream_response().error(), proto::STREAM_DENIED);
    }
    if (e.has_merkle_round()) {
      EXPECT_TRUE(e.merkle_round().body().empty());
    }
  }
  EXPECT_GE(t.active(0)->counters().unauthorized_streams_refused, 3u);
  // A token bound to another id is refused too, and the cluster stays empty.
  TopologyOptions o = three_clusters(3);
  Topology u(o);
  ASSERT_TRUE(u.run_until([&] { return u.active(0) && u.active(1); }, 10 * kUsPerSec));
  proto::OperatorRequest ep;
  ep.mutable_enable_primary();
  ASSERT_EQ(u.op(u.node_id(0, 0), ep).error(), proto::OK);
  proto::OperatorRequest tok;
  tok.mutable_secondary_token()->set_id("secondary-1");
  auto tr = u.op(u.node_id(0, 0), tok);
  ASSERT_EQ(tr.error(), proto::OK);
  proto::OperatorRequest used;
  used.mutable_enable_secondary()->set_token(tr.token());
  ASSERT_EQ(u.op(u.node_id(1, 0), used).error(), proto::OK);
  // Single use: the same token on another cluster is refused, and that cluster gets nothing.
  auto again = u.op(u.node_id(2, 0), used);
  EXPECT_EQ(again.error(), proto::PERMISSION_DENIED);
  EXPECT_EQ(u.active(2)->status().mode(), "disabled");
}

TEST(Replication, SecondaryBehindBufferReconcilesThroughMerkle) {
  TopologyOptions o = three_clusters(4);
  o.clusters = 2;
  o.node.wal_buffer_entries_max = 32;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  write_many(t, t.active_id(0), token, 0, 10);
  ASSERT_TRUE(t.run_until([&] { return converged(t, 0, 1); }, 5 * kUsPerSec));
  uint64_t diffs_before = t.active(1)->counters().merkle_diffs;
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1)});
  write_many(t, t.active_id(0), token, 10, 200);
  t.world().run_for(5 * kUsPerSec);
  EXPECT_NE(t.state(1), "stream-wals");
  // During the outage the secondary still serves reads from its local (stale) copy.
  std::string token1 = t.login(t.active_id(1));
  auto stale = t.read(t.active_id(1), token1, "kv/5");
  ASSERT_EQ(stale.error(), proto::OK) << stale.error_message();
  EXPECT_EQ(stale.value(), "value-5");
  EXPECT_FALSE(t.read(t.active_id(1), token1, "kv/150").found());
  t.world().network().heal_all();
  ASSERT_TRUE(t.run_until([&] { return converged(t, 0, 1) && t.state(1) == "stream-wals"; },
                          30 * kUsPerSec));
  EXPECT_GT(t.active(1)->counters().merkle_diffs, diffs_before);
  EXPECT_GE(t.active(1)->counters().merkle_syncs, 1u);
  EXPECT_GE(t.active(0)->counters().too_old_answers, 1u);
  // Streaming works again afterwards.
  write_many(t, t.active_id(0), token, 300, 5);
  ASSERT_TRUE(t.run_until([&] { return converged(t, 0, 1); }, 5 * kUsPerSec));
  EXPECT_EQ(t.state(1), "stream-wals");
}

TEST(Replication, PromotionAnotherSecondaryFollowsNewPrimaryWithoutWalResync) {
  TopologyOptions o = three_clusters(5);
  o.node.inflight_batches_max = 1;  // one unacknowledged batch of one entry at a time
  o.node.batch_entries_max = 1;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  write_many(t, t.active_id(0), token, 0, 100);
  ASSERT_TRUE(
      t.run_until([&] { return converged(t, 0, 1) && converged(t, 0, 2); }, 10 * kUsPerSec));
  // Cluster 1's acks stop reaching the primary: it gets at most one more entry, and learns
  // from heartbeats how far the primary got (so it knows what it misses). Then the primary
  // dies.
  for (NodeId a : t.cluster_nodes(1)) {
    for (NodeId b : t.cluster_nodes(0)) t.world().network().block(a, b);
  }
  write_many(t, t.active_id(0), token, 100, 5);
  t.world().run_for(1 * kUsPerSec);
  uint64_t old_epoch = t.active(0)->epoch().value;
  uint64_t expected_lost = t.active(0)->last_wal().value - t.active(1)->last_remote_wal().value;
  ASSERT_GE(expected_lost, 1u);
  for (NodeId id : t.cluster_nodes(0)) t.world().crash(id);
  proto::OperatorRequest promote;
  promote.mutable_promote();
  auto pr = t.op(t.node_id(1, 0), promote);
  ASSERT_EQ(pr.error(), proto::OK) << pr.error_message();
  EXPECT_EQ(t.active(1)->status().mode(), "primary");
  EXPECT_GT(t.active(1)->epoch().value, old_epoch);
  EXPECT_EQ(t.active(1)->counters().writes_lost_on_failover, expected_lost);
  uint64_t applied_before = t.active(2)->counters().entries_applied;
  ASSERT_TRUE(t.activate(2, 1, /*update_primary=*/true)) << t.last_error();
  std::string token1 = t.login(t.node_id(1, 0));
  write_many(t, t.active_id(1), token1, 1000, 10);
  ASSERT_TRUE(t.run_until([&] { return converged(t, 1, 2); }, 20 * kUsPerSec));
  EXPECT_EQ(t.active(2)->epoch(), t.active(1)->epoch());
  EXPECT_GE(t.active(2)->counters().merkle_syncs, 1u);
  // No WAL resync: only the writes made after the promotion were streamed.
  EXPECT_LE(t.active(2)->counters().entries_applied - applied_before, 10u);
  // Cluster 2 had the 5 lost writes; reconciliation removed them (new primary is the truth).
  auto snap = *t.active(2)->replicated_snapshot();
  EXPECT_EQ(snap.count("kv/104"), 0u);
  EXPECT_EQ(snap.at("kv/1005"), "value-1005");
}

TEST(Replication, HeavyWritesWithSmallBufferCauseNoMerkleLoop) {
  TopologyOptions o = three_clusters(6);
  o.clusters = 2;
  o.node.wal_buffer_entries_max = 64;
  Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1)});
  // Open loop: one write every 4 ms for 12 s (250 writes/s), far below apply capacity.
  NodeId primary = t.active_id(0);
  int sent = 0;
  int ok = 0;
  std::function<void()> tick = [&] {
    if (sent >= 3000) return;
    proto::ClientRequest r;
    r.set_token(token);
    r.mutable_write()->set_path("heavy/" + std::to_string(sent % 500));
    r.mutable_write()->set_value("v" + std::to_string(sent));
    ++sent;
    t.client().send(primary, r, [&](const proto::ClientResponse& resp) {
      if (resp.error() == proto::OK) ++ok;
    });
    t.world().env(Topology::kClient)->schedule(4 * kUsPerMs, tick);
  };
  tick();
  t.world().run_for(2 * kUsPerSec);
  uint64_t syncs = t.active(1)->counters().merkle_syncs;
  t.world().network().heal_all();  // now far behind the 64-entry buffer
  ASSERT_TRUE(t.run_until(
      [&] { return t.active(1)->counters().merkle_syncs > syncs && t.state(1) == "stream-wals"; },
      10 * kUsPerSec));
  uint64_t diffs = t.active(1)->counters().merkle_diffs;
  std::string state_changes;
  t.world().run_for(10 * kUsPerSec);  // writes keep coming
  EXPECT_EQ(t.active(1)->counters().merkle_diffs, diffs) << "merkle loop";
  EXPECT_EQ(t.state(1), "stream-wals");
  ASSERT_TRUE(t.run_until([&] { return sent >= 3000 && converged(t, 0, 1); }, 10 * kUsPerSec));
  EXPECT_EQ(ok, 3000);
}

TEST(Replication, TokensNeverInWalBatchOrMerkleMessage) {
  TopologyOptions o = three_clusters(7);
  o.node.required_state_wait_us = 1 * kUsPerMs;
  Topology t(o);
  std::vector<std::string> node_to_node;
  std::vector<std::string> cross_cluster;
  t.world().network().add_observer([&](NodeId from, NodeId to, const std::string& p) {
    if (from.value < 100 || to.value < 100) return;  // client traffic
    node_to_node.push_back(p);
    if (from.value / 100 != to.value / 100) cross_cluster.push_back(p);
  });
  ASSERT_TRUE(t.setup_replication());
  std::vector<std::string> tokens;
  for (int c = 0; c < 3; ++c) tokens.push_back(t.login(t.node_id(c, 0)));
  // Reconciliation traffic too: cluster 1 falls behind, then reconciles. Writes go through
  // standbys, so intra-cluster forwarding is covered as well.
  t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1)});
  for (int i = 0; i < 40; ++i) {
    auto r = t.write(t.node_id(i % 3, 1), tokens[i % 3], "kv/" + std::to_string(i),
                     "plaintext-secret-" + std::to_string(i));
    if (i % 3 != 1) {
      ASSERT_EQ(r.error(), proto::OK) << r.error_message();
    }
  }
  t.world().network().heal_all();
  ASSERT_TRUE(
      t.run_until([&] { return converged(t, 0, 1) && converged(t, 0, 2); }, 20 * kUsPerSec));
  // Reads through standbys (and the secondaries' FORWARD policy) bring values back sealed.
  for (int c = 0; c < 3; ++c) {
    NodeId standby = t.standby_id(c);
    ASSERT_NE(standby.value, 0u);
    auto r = t.read(standby, tokens[c], "kv/3");
    ASSERT_EQ(r.error(), proto::OK) << r.error_message();
    EXPECT_EQ(r.value(), "plaintext-secret-3");
  }
  // A read on cluster 2 right after a write on the primary requires the write's state, with
  // the FORWARD policy and a 1 ms wait: the entry is still on its way (30 ms), so the primary
  // answers — sealed.
  auto w = t.write(t.node_id(0, 0), tokens[0], "kv/late", "plaintext-secret-late");
  ASSERT_EQ(w.error(), proto::OK);
  proto::ClientRequest fwd_read;
  fwd_read.set_token(tokens[2]);
  fwd_read.mutable_read()->set_path("kv/late");
  *fwd_read.mutable_required_index_state() = w.index_state();
  fwd_read.set_stale_policy(proto::FORWARD);
  auto fr = t.call(t.standby_id(2), fwd_read);
  ASSERT_EQ(fr.error(), proto::OK) << fr.error_message();
  EXPECT_EQ(fr.value(), "plaintext-secret-late");
  EXPECT_EQ(fr.served_by_cluster(), 1u);
  EXPECT_TRUE(fr.forwarded());
  size_t batches = 0;
  size_t merkle = 0;
  for (const std::string& p : cross_cluster) {
    for (const std::string& tok : tokens) {
      ASSERT_FALSE(tok.empty());
      EXPECT_EQ(p.find(tok), std::string::npos) << "token on the wire between nodes";
    }
  }
  EXPECT_GT(cross_cluster.size(), 0u);
  for (const std::string& p : node_to_node) {
    EXPECT_EQ(p.find("plaintext-secret-"), std::string::npos) << "plaintext between nodes";
    EXPECT_EQ(p.find("sys/token/"), std::string::npos) << "token path between nodes";
    proto::NodeEnvelope e;
    ASSERT_TRUE(e.ParseFromString(p));
    if (e.has_wal_batch()) {
      ++batches;
      for (const auto& entry : e.wal_batch().entries()) {
        for (const auto& c : entry.changes()) EXPECT_NE(c.path().rfind("sys/", 0), 0u);
      }
    }
    if (e.has_merkle_round()) {
      ++merkle;
      for (const std::string& tok : tokens) EXPECT_EQ(p.find(tok), std::string::npos);
    }
    if (e.has_wal_batch()) {
      for (const std::string& tok : tokens) EXPECT_EQ(p.find(tok), std::string::npos);
    }
  }
  EXPECT_GT(batches, 0u);
  EXPECT_GT(merkle, 0u);
}

}  // namespace
}  // namespace replsim::cluster

namespace replsim::cluster {
namespace {

// Buggify on, a WAN with 20 % loss, duplication and reordering (Jepsen-like), a partition and a
// failover of the primary's active node: for a range of seeds, every secondary converges to the
// primary (state and merkle root) and stays in stream-wals once faults stop.
TEST(Replication, ConvergesUnderBuggifyLossAndFailoverAcrossSeeds) {
  for (uint64_t seed = 100; seed < 120; ++seed) {
    testkit::TopologyOptions o;
    o.seed = seed;
    o.clusters = 3;
    o.nodes_per_cluster = 2;
    o.buggify = true;
    o.wan.drop_probability = 0.2;
    o.wan.duplicate_probability = 0.2;
    o.wan.reorder_probability = 0.2;
    testkit::Topology t(o);
    ASSERT_TRUE(t.setup_replication()) << "seed " << seed << ": " << t.last_error();
    std::string token = t.login(t.node_id(0, 0));
    int ok = 0;
    for (int i = 0; i < 60; ++i) {
      if (i == 20) t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(2)});
      if (i == 30) t.world().crash(t.active_id(0));
      if (i == 45) t.world().network().heal_all();
      NodeId to = t.cluster_nodes(0)[i % 2];
      auto r = t.write(to, token, "kv/" + std::to_string(i % 25), "v" + std::to_string(i));
      ok += r.error() == proto::OK ? 1 : 0;
    }
    EXPECT_GE(ok, 40) << "seed " << seed;
    for (NodeId id : t.cluster_nodes(0)) {
      if (!t.world().up(id)) t.world().restart(id);
    }
    bool converged = t.run_until(
        [&] {
          Node* p = t.active(0);
          if (!p) return false;
          for (int c = 1; c < 3; ++c) {
            Node* s = t.active(c);
            if (!s || s->replicated_snapshot() != p->replicated_snapshot()) return false;
            if (s->merkle_root_hex() != p->merkle_root_hex()) return false;
            if (s->status().state() != "stream-wals") return false;
          }
          return true;
        },
        120 * kUsPerSec);
    EXPECT_TRUE(converged) << "seed " << seed << " states " << t.state(1) << " " << t.state(2);
  }
}

}  // namespace
}  // namespace replsim::cluster

namespace replsim::cluster {
namespace {

// Planned switchover: demote the primary, promote a secondary, point the old primary (now a
// secondary) and the other secondary at the new one. Nothing is lost, everyone converges, and
// the new epoch is larger than the old one everywhere.
TEST(Replication, DemotePromoteUpdatePrimarySwitchover) {
  testkit::TopologyOptions o;
  o.seed = 21;
  o.clusters = 3;
  testkit::Topology t(o);
  ASSERT_TRUE(t.setup_replication());
  std::string token = t.login(t.node_id(0, 0));
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(t.write(t.node_id(0, 0), token, "kv/" + std::to_string(i), "a").error(), proto::OK);
  }
  auto all_equal = [&](int p) {
    for (int c = 0; c < 3; ++c) {
      if (c == p) continue;
      if (!t.active(c) || !t.active(p)) return false;
      if (t.active(c)->replicated_snapshot() != t.active(p)->replicated_snapshot()) return false;
      if (t.active(c)->merkle_root_hex() != t.active(p)->merkle_root_hex()) return false;
    }
    return true;
  };
  ASSERT_TRUE(t.run_until([&] { return all_equal(0); }, 10 * kUsPerSec));
  uint64_t old_epoch = t.active(0)->epoch().value;
  proto::OperatorRequest demote;
  demote.mutable_demote();
  ASSERT_EQ(t.op(t.node_id(0, 0), demote).error(), proto::OK);
  EXPECT_EQ(t.active(0)->status().mode(), "secondary");
  // Writes on the demoted cluster now fail clearly (no primary configured).
  EXPECT_NE(t.write(t.node_id(0, 0), token, "kv/x", "1").error(), proto::OK);
  proto::OperatorRequest promote;
  promote.mutable_promote();
  ASSERT_EQ(t.op(t.node_id(1, 0), promote).error(), proto::OK);
  EXPECT_EQ(t.active(1)->counters().writes_lost_on_failover, 0u);
  ASSERT_TRUE(t.activate(0, 1, /*update_primary=*/true)) << t.last_error();
  ASSERT_TRUE(t.activate(2, 1, /*update_primary=*/true)) << t.last_error();
  std::string token1 = t.login(t.node_id(1, 0));
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(t.write(t.node_id(1, 1), token1, "kv/n" + std::to_string(i), "b").error(), proto::OK);
  }
  ASSERT_TRUE(t.run_until([&] { return all_equal(1); }, 20 * kUsPerSec));
  auto snap = *t.active(0)->replicated_snapshot();
  EXPECT_EQ(snap.at("kv/29"), "a");
  EXPECT_EQ(snap.at("kv/n9"), "b");
  for (int c = 0; c < 3; ++c) EXPECT_GT(t.active(c)->epoch().value, old_epoch);
  // The old primary's own clients write through it now (forwarded to the new primary).
  auto w = t.write(t.node_id(0, 0), token, "kv/via-old", "c");
  ASSERT_EQ(w.error(), proto::OK) << w.error_message();
  EXPECT_TRUE(w.forwarded());
  EXPECT_EQ(w.served_by_cluster(), 2u);
}

}  // namespace
}  // namespace replsim::cluster

namespace replsim::cluster {
namespace {

// Random faults in every cluster (crash/restart, pause/resume, power loss of a secondary's
// storage, partitions between clusters, clock skew on) while a client writes; then faults stop
// and every cluster must converge to the primary within a bound.
TEST(Replication, ConvergesAfterRandomCrashesPausesPowerLossAndPartitions) {
  for (uint64_t seed = 200; seed < 208; ++seed) {
    testkit::TopologyOptions o;
    o.seed = seed;
    o.clusters = 3;
    o.nodes_per_cluster = 2;
    o.buggify = true;
    testkit::Topology t(o);
    ASSERT_TRUE(t.setup_replication()) << "seed " << seed << ": " << t.last_error();
    std::string token = t.login(t.node_id(0, 0));
    sim::Prng& rnd = t.world().random();
    int ok = 0;
    for (int step = 0; step < 40; ++step) {
      uint64_t dice = rnd.uniform(10);
      int c = static_cast<int>(rnd.uniform(3));
      NodeId n = t.node_id(c, static_cast<int>(rnd.uniform(2)));
      if (dice == 0 && t.world().up(n) && !t.world().paused(n)) {
        t.world().crash(n);
      } else if (dice == 1 && t.world().up(n) && !t.world().paused(n)) {
        t.world().pause(n);
      } else if (dice == 2 && c != 0) {
        t.world().power_loss("cluster" + std::to_string(c));
      } else if (dice == 3) {
        t.world().network().split({t.cluster_nodes(0), t.cluster_nodes(1 + rnd.uniform(2))});
      } else if (dice == 4) {
        t.world().network().heal_all();
      }
      for (NodeId id : t.world().nodes()) {  // bring back what has been down a while
        if (id == Topology::kClient || rnd.uniform(3) != 0) continue;
        if (!t.world().up(id)) t.world().restart(id);
        if (t.world().paused(id)) t.world().resume(id);
      }
      auto r = t.write(t.node_id(0, step % 2), token, "kv/" + std::to_string(step % 15),
                       "v" + std::to_string(step));
      ok += r.error() == proto::OK ? 1 : 0;
    }
    // Liveness phase: no more faults.
    t.world().network().heal_all();
    for (NodeId id : t.world().nodes()) {
      if (!t.world().up(id)) t.world().restart(id);
      if (t.world().paused(id)) t.world().resume(id);
    }
    bool converged = t.run_until(
        [&] {
          Node* p = t.active(0);
          if (!p) return false;
          for (int c = 1; c < 3; ++c) {
            Node* s = t.active(c);
            if (!s || s->replicated_snapshot() != p->replicated_snapshot()) return false;
            if (s->merkle_root_hex() != p->merkle_root_hex()) return false;
            if (s->status().state() != "stream-wals") return false;
          }
          return true;
        },
        120 * kUsPerSec);
    EXPECT_TRUE(converged) << "seed " << seed << " ok writes " << ok << " states '" << t.state(1)
                           << "' '" << t.state(2) << "'";
  }
}

}  // namespace
}  // namespace replsim::cluster
