// Property: after any sequence of partition operations, a message gets through a link exactly
// when a simple model of blocked directed pairs says it is open.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "sim/network.h"

namespace replsim::sim {
namespace {

constexpr uint32_t kNodes = 5;
using Pair = std::pair<uint32_t, uint32_t>;

struct Op {
  int kind;  // 0 block, 1 partition, 2 isolate, 3 split, 4 heal, 5 heal_all
  uint32_t a;
  uint32_t b;
  std::vector<int> group_of;  // split: group (0 or 1) of each node
};

void apply_to_model(const Op& op, std::set<Pair>* blocked) {
  switch (op.kind) {
    case 0:
      blocked->insert({op.a, op.b});
      break;
    case 1:
      blocked->insert({op.a, op.b});
      blocked->insert({op.b, op.a});
      break;
    case 2:
      for (uint32_t o = 1; o <= kNodes; ++o) {
        if (o == op.a) continue;
        blocked->insert({op.a, o});
        blocked->insert({o, op.a});
      }
      break;
    case 3:
      for (uint32_t x = 1; x <= kNodes; ++x) {
        for (uint32_t y = 1; y <= kNodes; ++y) {
          if (op.group_of[x - 1] != op.group_of[y - 1]) blocked->insert({x, y});
        }
      }
      break;
    case 4:
      blocked->erase({op.a, op.b});
      blocked->erase({op.b, op.a});
      break;
    default:
      blocked->clear();
      break;
  }
}

void apply_to_network(const Op& op, Network* net) {
  const NodeId a(op.a), b(op.b);
  switch (op.kind) {
    case 0:
      net->block(a, b);
      break;
    case 1:
      net->partition(a, b);
      break;
    case 2:
      net->isolate(a);
      break;
    case 3: {
      std::vector<std::vector<NodeId>> groups(2);
      for (uint32_t x = 1; x <= kNodes; ++x) groups[op.group_of[x - 1]].push_back(NodeId(x));
      net->split(groups);
      break;
    }
    case 4:
      net->heal(a, b);
      break;
    default:
      net->heal_all();
      break;
  }
}

RC_GTEST_PROP(NetworkProperty, LinksAreOpenExactlyWhenThePartitionModelSaysSo, ()) {
  const auto node = rc::gen::inRange<uint32_t>(1, kNodes + 1);
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 6)), rc::gen::set(&Op::a, node),
      rc::gen::set(&Op::b, node),
      rc::gen::set(&Op::group_of,
                   rc::gen::container<std::vector<int>>(kNodes, rc::gen::inRange(0, 2)))));
  EventLoop loop;
  Network net(loop, Prng(*rc::gen::arbitrary<uint64_t>()));
  std::set<std::pair<Pair, int>> arrived;
  for (uint32_t n = 1; n <= kNodes; ++n) {
    net.set_endpoint(NodeId(n), [&, n](NodeId from, std::string payload) {
      arrived.insert({{from.value, n}, std::stoi(payload)});
    });
  }
  std::set<Pair> model;
  for (size_t step = 0; step < ops.size(); ++step) {
    if (ops[step].a == ops[step].b && ops[step].kind != 2) continue;
    apply_to_model(ops[step], &model);
    apply_to_network(ops[step], &net);
    for (uint32_t x = 1; x <= kNodes; ++x) {
      for (uint32_t y = 1; y <= kNodes; ++y) {
        if (x == y) continue;
        const bool open = model.count({x, y}) == 0;
        RC_ASSERT(net.blocked(NodeId(x), NodeId(y)) == !open);
        net.send(NodeId(x), NodeId(y), std::to_string(step));
        loop.run_until(loop.now() + kUsPerSec);
        RC_ASSERT(arrived.count({{x, y}, static_cast<int>(step)}) == (open ? 1u : 0u));
      }
    }
  }
}

}  // namespace
}  // namespace replsim::sim
