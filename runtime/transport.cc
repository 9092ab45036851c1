#include "runtime/transport.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <iostream>

namespace replsim::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

TimeUs steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<PeerAddress> parse_peer_address(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::invalid_argument("address '" + text + "': want host:port");
  }
  PeerAddress a;
  a.host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  unsigned long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Status::invalid_argument("address '" + text + "': bad port");
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) return Status::invalid_argument("address '" + text + "': port > 65535");
  }
  a.port = static_cast<uint16_t>(p);
  return a;
}

// One TCP connection. Handlers hold a shared_ptr to it; `owner_` is cleared when the transport
// goes away, after which handlers return without touching anything else.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Transport* owner, tcp::socket socket, bool outbound, NodeId peer)
      : owner_(owner),
        socket_(std::move(socket)),
        outbound_(outbound),
        peer_(peer),
        resolver_(socket_.get_executor()) {}

  bool outbound() const { return outbound_; }
  NodeId peer() const { return peer_; }
  void detach() {
    owner_ = nullptr;
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
  }

  void dial(const PeerAddress& address) {
    auto self = shared_from_this();
    resolver_.async_resolve(address.host, std::to_string(address.port),
                            [self](const error_code& ec, tcp::resolver::results_type results) {
                              if (self->owner_ == nullptr) return;
                              if (ec) return self->close("resolve: " + ec.message());
                              asio::async_connect(
                                  self->socket_, results,
                                  [self](const error_code& ec2, const tcp::endpoint&) {
                                    if (self->owner_ == nullptr) return;
                                    if (ec2) return self->close("connect: " + ec2.message());
                                    self->connected_ = true;
                                    self->owner_->on_connected(self->peer_);
                                    error_code ignored;
                                    self->socket_.set_option(tcp::no_delay(true), ignored);
                                    self->read_header();
                                    self->write_next();
                                  });
                            });
  }

  void start_inbound() {
    connected_ = true;
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read_header();
  }

  // False when the queue bound refuses the frame.
  bool enqueue(std::string frame) {
    if (queued_bytes_ + frame.size() > owner_->options_.queue_bytes_max) return false;
    queued_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    if (connected_ && !writing_) write_next();
    return true;
  }

 private:
  void write_next() {
    if (queue_.empty() || writing_) return;
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(queue_.front()), [self](const error_code& ec, size_t) {
      if (self->owner_ == nullptr) return;
      self->writing_ = false;
      if (ec) return self->close("write: " + ec.message());
      self->owner_->counters_.frames_sent++;
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      self->write_next();
    });
  }

  void read_header() {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(header_), [self](const error_code& ec, size_t) {
      if (self->owner_ == nullptr) return;
      if (ec) return self->close(ec == asio::error::eof ? "" : "read: " + ec.message());
      auto h = decode_frame_header(std::string_view(self->header_.data(), kFrameHeaderBytes),
                                   self->owner_->options_.frame_bytes_max);
      if (!h.is_ok()) return self->refuse(h.status());
      self->frame_ = h.value();
      self->payload_.resize(self->frame_.length);
      self->read_payload();
    });
  }

  void read_payload() {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(payload_), [self](const error_code& ec, size_t) {
      if (self->owner_ == nullptr) return;
      if (ec) return self->close("read: " + ec.message());
      Status s = verify_frame_payload(self->frame_, self->payload_);
      if (!s.is_ok()) return self->refuse(s);
      self->owner_->on_frame(self.get(), self->frame_.from, std::move(self->payload_));
      if (self->owner_ == nullptr) return;  // the receiver destroyed the transport
      self->payload_ = std::string();
      self->read_header();
    });
  }

  void refuse(const Status& s) {
    owner_->counters_.frames_corrupt++;
    close("refused corrupt frame: " + s.to_string());
  }

  void close(const std::string& why) {
    if (owner_ == nullptr) return;
    Transport* owner = owner_;
    owner->counters_.frames_dropped += queue_.size();
    queue_.clear();
    queued_bytes_ = 0;
    const bool dial_failed = outbound_ && !connected_;
    detach();
    if (dial_failed) {
      // One line per outage, not one per redial.
      if (!owner->down_logged_[peer_]) {
        owner->log("node " + std::to_string(peer_.value) + " unreachable (" + why +
                   "); redialling");
      }
      owner->down_logged_[peer_] = true;
    } else if (!why.empty()) {
      owner->log("connection " + std::string(outbound_ ? "to" : "from") + " node " +
                 std::to_string(peer_.value) + ": " + why);
    }
    owner->on_closed(this, dial_failed);  // may drop the last owning reference; `self` holds
  }

  Transport* owner_;
  tcp::socket socket_;
  bool outbound_;
  NodeId peer_;  // outbound: the dialled node; inbound: the last sender seen
  tcp::resolver resolver_;
  bool connected_ = false;
  bool writing_ = false;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  std::array<char, kFrameHeaderBytes> header_{};
  FrameHeader frame_;
  std::string payload_;

  friend class Transport;
};

Transport::Transport(asio::io_context& io, TransportOptions options)
    : io_(io), options_(std::move(options)), acceptor_(io), alive_(std::make_shared<int>(0)) {}

Transport::~Transport() {
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, c] : outbound_) c->detach();
  for (auto& [p, c] : inbound_) c->detach();
}

Status Transport::start() {
  if (!options_.listen) return Status::ok();
  error_code ec;
  auto addr = asio::ip::make_address(options_.listen_host, ec);
  if (ec)
    return Status::invalid_argument("listen host '" + options_.listen_host + "': " + ec.message());
  tcp::endpoint ep(addr, options_.listen_port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::unavailable("listen on " + options_.listen_host + ":" +
                               std::to_string(options_.listen_port) + ": " + ec.message());
  }
  listen_port_ = acceptor_.local_endpoint().port();
  accept_next();
  return Status::ok();
}

void Transport::accept_next() {
  std::weak_ptr<int> alive = alive_;
  acceptor_.async_accept([this, alive](const error_code& ec, tcp::socket socket) {
    if (alive.expired() || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (inbound_.size() >= options_.inbound_connections_max) {
        log("inbound connection refused: " + std::to_string(inbound_.size()) + " open");
      } else {
        counters_.inbound_accepted++;
        auto c = std::make_shared<Connection>(this, std::move(socket), false, NodeId());
        inbound_[c.get()] = c;
        c->start_inbound();
      }
    }
    accept_next();
  });
}

void Transport::set_peer(NodeId id, PeerAddress address) { options_.peers[id] = address; }

std::shared_ptr<Connection> Transport::dial(NodeId to) {
  auto peer = options_.peers.find(to);
  if (peer == options_.peers.end()) return nullptr;
  auto backoff = backoff_until_us_.find(to);
  if (backoff != backoff_until_us_.end() && steady_now_us() < backoff->second) return nullptr;
  counters_.dials++;
  auto c = std::make_shared<Connection>(this, tcp::socket(io_), true, to);
  outbound_[to] = c;
  c->dial(peer->second);
  return c;
}

void Transport::send(NodeId to, std::string payload) {
  if (to == options_.self) {  // loopback, still never re-entrant
    std::weak_ptr<int> alive = alive_;
    asio::post(io_, [this, alive, p = std::move(payload)]() mutable {
      if (alive.expired()) return;
      counters_.frames_received++;
      if (receiver_) receiver_(options_.self, std::move(p));
    });
    return;
  }
  std::shared_ptr<Connection> c;
  if (auto it = outbound_.find(to); it != outbound_.end()) c = it->second;
  if (!c && options_.peers.count(to) == 0) {
    if (auto it = learned_.find(to); it != learned_.end()) {
      if (auto in = inbound_.find(it->second); in != inbound_.end()) c = in->second;
    }
  }
  if (!c) c = dial(to);
  if (!c || !c->enqueue(encode_frame(options_.self, payload))) counters_.frames_dropped++;
}

void Transport::on_frame(Connection* conn, NodeId from, std::string payload) {
  counters_.frames_received++;
  if (!conn->outbound()) {
    conn->peer_ = from;
    learned_[from] = conn;
  }
  if (receiver_) receiver_(from, std::move(payload));
}

void Transport::on_connected(NodeId peer) {
  if (down_logged_[peer]) log("node " + std::to_string(peer.value) + " reachable again");
  down_logged_.erase(peer);
}

void Transport::on_closed(Connection* conn, bool dial_failed) {
  if (conn->outbound()) {
    if (dial_failed) {
      counters_.dial_failures++;
      backoff_until_us_[conn->peer()] = steady_now_us() + options_.reconnect_backoff_us;
    }
    auto it = outbound_.find(conn->peer());
    if (it != outbound_.end() && it->second.get() == conn) outbound_.erase(it);
    return;
  }
  for (auto it = learned_.begin(); it != learned_.end();) {
    it = it->second == conn ? learned_.erase(it) : std::next(it);
  }
  inbound_.erase(conn);
}

void Transport::log(const std::string& message) const {
  if (options_.log_errors)
    std::cerr << "replsim transport (node " << options_.self.value << "): " << message << "\n";
}

}  // namespace replsim::runtime
