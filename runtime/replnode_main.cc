// replnode: one replsim engine node over the real world (TCP, files, wall clock) with an HTTP
// API. See docs/runtime.md for a two-cluster deployment on localhost.
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "runtime/replnode_config.h"

int main(int argc, char** argv) {
  using namespace replsim;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help") {
    std::cout << runtime::replnode_usage();
    return args.empty() ? 2 : 0;
  }
  auto config = runtime::parse_replnode_args(args);
  if (!config.is_ok()) {
    std::cerr << "replnode: " << config.status().to_string() << "\n" << runtime::replnode_usage();
    return 2;
  }
  boost::asio::io_context io;
  auto node = runtime::Replnode::create(io, config.value());
  if (!node.is_ok()) {
    std::cerr << "replnode: " << node.status().to_string() << "\n";
    return 1;
  }
  Status s = node.value()->start();
  if (!s.is_ok()) {
    std::cerr << "replnode: " << s.to_string() << "\n";
    return 1;
  }
  const runtime::ReplnodeConfig& c = node.value()->config();
  std::cout << "replnode: node " << c.node_id.value << " of cluster " << c.cluster_id.value
            << " listening on " << c.listen.host << ":" << node.value()->listen_port()
            << ", HTTP on " << c.http.host << ":" << node.value()->http_port() << ", data in "
            << c.data_dir << std::endl;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();  // the one engine thread
  std::cout << "replnode: stopping" << std::endl;
  return 0;
}
