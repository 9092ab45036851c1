// runtime/transport.h — best-effort node-to-node messages over TCP (the runtime's Env::send).
//
// Model: every message is one frame (runtime/frame.h) on a TCP connection. To send to node N,
// the transport uses its outbound connection to N, dialling the address in the static peer
// table when there is none; a node that is not in the table but has connected to us (a client
// such as the HTTP front end) is answered over the connection it opened. When there is no way to
// reach N the message is dropped, as Env allows: nothing reports a message's fate and the engine
// retries on its own timers. A failed dial holds further dials to that peer off for
// reconnect_backoff_us (messages meanwhile are dropped). Bounds: frame_bytes_max per frame
// (larger inbound frames are corruption), queue_bytes_max of unsent frames per connection (more
// are dropped), inbound_connections_max accepted connections (more are closed at once).
// A corrupt frame is logged and closes its connection. Not authenticated or encrypted.
//
// Threading: everything, the receiver included, runs on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/status.h"
#include "engine/types.h"
#include "runtime/frame.h"

namespace replsim::runtime {

struct PeerAddress {
  std::string host;
  uint16_t port = 0;
};

// "host:port" → PeerAddress.
Result<PeerAddress> parse_peer_address(const std::string& text);

struct TransportOptions {
  NodeId self;
  std::map<NodeId, PeerAddress> peers;  // static peer table (may include self)
  bool listen = true;                   // false: a client that only dials
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: an ephemeral port (see Transport::listen_port)
  size_t frame_bytes_max = kFrameBytesMaxDefault;
  size_t queue_bytes_max = 64 * 1024 * 1024;
  size_t inbound_connections_max = 1024;
  TimeUs reconnect_backoff_us = 100 * kUsPerMs;
  bool log_errors = true;  // connection errors and corrupt frames to stderr
};

struct TransportCounters {
  uint64_t frames_sent = 0;      // handed to the socket
  uint64_t frames_received = 0;  // verified and delivered (or dropped: no receiver)
  uint64_t frames_corrupt = 0;   // refused: bad magic, length or checksum
  uint64_t frames_dropped = 0;   // no route, backoff, full queue or connection lost
  uint64_t dials = 0;
  uint64_t dial_failures = 0;
  uint64_t inbound_accepted = 0;
};

class Connection;

class Transport {
 public:
  using Receiver = std::function<void(NodeId from, std::string payload)>;

  Transport(boost::asio::io_context& io, TransportOptions options);
  ~Transport();  // closes every connection; no callback runs afterwards
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds and listens (when options.listen). Errors: address in use, bad host.
  Status start();
  uint16_t listen_port() const { return listen_port_; }

  void set_peer(NodeId id, PeerAddress address);
  void set_receiver(Receiver fn) { receiver_ = std::move(fn); }
  void send(NodeId to, std::string payload);

  const TransportCounters& counters() const { return counters_; }
  const TransportOptions& options() const { return options_; }

 private:
  friend class Connection;
  void accept_next();
  void on_frame(Connection* conn, NodeId from, std::string payload);
  void on_connected(NodeId peer);
  void on_closed(Connection* conn, bool dial_failed);
  void log(const std::string& message) const;
  std::shared_ptr<Connection> dial(NodeId to);

  boost::asio::io_context& io_;
  TransportOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t listen_port_ = 0;
  Receiver receiver_;
  TransportCounters counters_;
  std::map<NodeId, std::shared_ptr<Connection>> outbound_;
  std::map<Connection*, std::shared_ptr<Connection>> inbound_;
  std::map<NodeId, Connection*> learned_;  // node → inbound connection it last spoke on
  std::map<NodeId, TimeUs> backoff_until_us_;
  std::map<NodeId, bool> down_logged_;  // an outage of this peer was logged
  std::shared_ptr<int> alive_;
};

}  // namespace replsim::runtime
