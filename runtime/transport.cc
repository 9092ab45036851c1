#include "runtime/transport.h"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
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

namespace {

// The cluster a verified peer certificate names ("replsim-cluster-<id>"), 0 when none.
uint32_t certificate_cluster(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return 0;
  char cn[256] = {0};
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  X509_free(cert);
  constexpr std::string_view kPrefix = "replsim-cluster-";
  std::string_view name(cn, n > 0 ? static_cast<size_t>(n) : 0);
  if (name.substr(0, kPrefix.size()) != kPrefix) return 0;
  uint64_t id = 0;
  for (char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9' || id > UINT32_MAX / 10) return 0;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  return id <= UINT32_MAX ? static_cast<uint32_t>(id) : 0;
}

}  // namespace

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
  ClusterId peer_cluster() const { return peer_cluster_; }
  void detach() {
    owner_ = nullptr;
    error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
  }

  // With TLS: the handshake, then the peer's cluster from its verified certificate (an
  // outbound connection also checks it is the cluster of the node dialled); then `next`.
  void secure(std::function<void()> next) {
    if (!owner_->tls_context_) return next();
    auto* ctx = static_cast<asio::ssl::context*>(owner_->tls_context_.get());
    tls_ = std::make_unique<TlsStream>(socket_, *ctx);
    auto self = shared_from_this();
    const auto side = outbound_ ? asio::ssl::stream_base::client : asio::ssl::stream_base::server;
    tls_->async_handshake(side, [self, next](const error_code& ec) {
      if (self->owner_ == nullptr) return;
      if (ec) {
        self->owner_->counters_.tls_handshakes_failed++;
        return self->close("TLS handshake: " + ec.message());
      }
      self->peer_cluster_ = ClusterId(certificate_cluster(self->tls_->native_handle()));
      if (self->peer_cluster_.value == 0) {
        self->owner_->counters_.tls_handshakes_failed++;
        return self->close("TLS: the peer certificate names no replsim cluster");
      }
      if (self->outbound_) {
        auto want = self->owner_->options_.node_clusters.find(self->peer_);
        if (want != self->owner_->options_.node_clusters.end() &&
            want->second != self->peer_cluster_) {
          self->owner_->counters_.impersonations_refused++;
          return self->close("TLS: node " + std::to_string(self->peer_.value) +
                             " answered with the certificate of cluster " +
                             std::to_string(self->peer_cluster_.value));
        }
      }
      next();
    });
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
                                    error_code ignored;
                                    self->socket_.set_option(tcp::no_delay(true), ignored);
                                    self->secure([self] {
                                      self->connected_ = true;
                                      self->owner_->on_connected(self->peer_);
                                      self->read_header();
                                      self->write_next();
                                    });
                                  });
                            });
  }

  void start_inbound() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    auto self = shared_from_this();
    secure([self] {
      self->connected_ = true;
      self->read_header();
      self->write_next();
    });
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
  using TlsStream = asio::ssl::stream<tcp::socket&>;

  template <class Buffers, class Handler>
  void read_exactly(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_read(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_read(socket_, buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void write_all(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    asio::async_write(socket_, buffers, std::forward<Handler>(handler));
  }

  void write_next() {
    if (queue_.empty() || writing_) return;
    writing_ = true;
    auto self = shared_from_this();
    write_all(asio::buffer(queue_.front()), [self](const error_code& ec, size_t) {
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
    read_exactly(asio::buffer(header_), [self](const error_code& ec, size_t) {
      if (self->owner_ == nullptr) return;
      if (ec) return self->close(ec == asio::error::eof ? "" : "read: " + ec.message());
      self->last_activity_us_ = steady_now_us();
      auto h = decode_frame_header(std::string_view(self->header_.data(), kFrameHeaderBytes),
                                   self->owner_->options_.frame_bytes_max);
      if (!h.is_ok()) return self->refuse(h.status());
      self->frame_ = h.value();
      self->payload_ = std::string();
      self->read_payload();
    });
  }

  // Reads the payload a chunk at a time: memory follows the bytes that arrived, not the
  // length the header announced (a peer announcing 64 MiB and sending 5 bytes holds 5).
  void read_payload() {
    const size_t have = payload_.size();
    if (have == frame_.length) return deliver_payload();
    const size_t chunk = std::min(frame_.length - have, owner_->options_.read_chunk_bytes);
    if (!outbound_ && !owner_->take_partial(chunk)) {
      owner_->counters_.partial_frames_refused++;
      return close("partial frames past inbound_partial_bytes_max; connection closed");
    }
    partial_taken_ += outbound_ ? 0 : chunk;
    payload_.resize(have + chunk);
    auto self = shared_from_this();
    read_exactly(asio::buffer(payload_.data() + have, chunk), [self](const error_code& ec, size_t) {
      if (self->owner_ == nullptr) return;
      if (ec) return self->close("read: " + ec.message());
      self->last_activity_us_ = steady_now_us();
      self->read_payload();
    });
  }

  void deliver_payload() {
    give_back_partial();
    Status s = verify_frame_payload(frame_, payload_);
    if (!s.is_ok()) return refuse(s);
    auto self = shared_from_this();
    owner_->on_frame(this, frame_.from, std::move(payload_));
    if (owner_ == nullptr) return;  // the receiver destroyed the transport
    payload_ = std::string();
    read_header();
  }

  void give_back_partial() {
    if (owner_ != nullptr) owner_->inbound_partial_bytes_ -= partial_taken_;
    partial_taken_ = 0;
  }

  void refuse(const Status& s) {
    owner_->counters_.frames_corrupt++;
    close("refused corrupt frame: " + s.to_string());
  }

  void close(const std::string& why) {
    if (owner_ == nullptr) return;
    give_back_partial();
    payload_ = std::string();  // the memory goes back now, not when the last handler ends
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
  std::unique_ptr<TlsStream> tls_;
  ClusterId peer_cluster_;    // from the verified certificate (TLS only)
  size_t partial_taken_ = 0;  // bytes of payload_ counted in the transport's partial total
  TimeUs last_activity_us_ = steady_now_us();

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

Status Transport::init_tls() {
  if (!options_.tls || tls_context_) return Status::ok();
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
  error_code ec;
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                       asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::no_tlsv1_2,
                   ec);
  const TlsOptions& t = *options_.tls;
  if (!ec) ctx->load_verify_file(t.ca_file, ec);
  if (ec) return Status::invalid_argument("TLS CA file '" + t.ca_file + "': " + ec.message());
  ctx->use_certificate_chain_file(t.cert_file, ec);
  if (ec) return Status::invalid_argument("TLS certificate '" + t.cert_file + "': " + ec.message());
  ctx->use_private_key_file(t.key_file, asio::ssl::context::pem, ec);
  if (ec) return Status::invalid_argument("TLS key '" + t.key_file + "': " + ec.message());
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return Status::invalid_argument("TLS verify mode: " + ec.message());
  tls_context_ = ctx;
  return Status::ok();
}

Status Transport::start() {
  REPLSIM_RETURN_IF_ERROR(init_tls());
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
      // At the bound, the connection idle the longest makes room: holding many idle
      // connections open cannot lock everyone else out.
      if (inbound_.size() >= options_.inbound_connections_max && !inbound_.empty()) {
        auto idlest = std::min_element(inbound_.begin(), inbound_.end(), [](auto& a, auto& b) {
          return a.second->last_activity_us_ < b.second->last_activity_us_;
        });
        counters_.inbound_shed++;
        std::shared_ptr<Connection> victim = idlest->second;
        victim->close("idle the longest; shed for a new connection at the bound of " +
                      std::to_string(options_.inbound_connections_max));
      }
      if (inbound_.size() < options_.inbound_connections_max) {
        counters_.inbound_accepted++;
        auto c = std::make_shared<Connection>(this, std::move(socket), false, NodeId());
        inbound_[c.get()] = c;
        c->start_inbound();
      }
    }
    accept_next();
  });
}

bool Transport::take_partial(size_t bytes) {
  if (inbound_partial_bytes_ + bytes > options_.inbound_partial_bytes_max) return false;
  inbound_partial_bytes_ += bytes;
  return true;
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
  if (tls_context_) {
    // The certificate says who may speak on this connection: its cluster's nodes, or clients
    // (ids that are no node at all). Never another cluster's node.
    auto member = options_.node_clusters.find(from);
    const bool other_cluster_node =
        member != options_.node_clusters.end() && member->second != conn->peer_cluster();
    const bool unmapped_node = member == options_.node_clusters.end() &&
                               (options_.peers.count(from) > 0 || from == options_.self);
    if (other_cluster_node || unmapped_node) {
      counters_.impersonations_refused++;
      auto keep = conn->shared_from_this();
      return conn->close("refused: a frame claims node " + std::to_string(from.value) +
                         " on a connection certified for cluster " +
                         std::to_string(conn->peer_cluster().value));
    }
  }
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
