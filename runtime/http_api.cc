#include "runtime/http_api.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "runtime/vault_api.h"

namespace replsim::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    auto hexval = [](char ch) {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    if (in[i] == '%' && i + 2 < in.size() && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
      out += static_cast<char>(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    const size_t eq = item.find('=');
    out[percent_decode(item.substr(0, eq), true)] =
        eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1), true);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

// Go's strconv.ParseBool, which Vault uses for ?list=.
bool parse_bool_true(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

std::string header(const Request& req, const char* name) {
  auto it = req.find(name);
  return it == req.end() ? "" : std::string(it->value());
}

VaultRequest to_vault(const Request& req) {
  VaultRequest v;
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  v.path = percent_decode(target.substr(0, q), false);
  v.path.erase(0, 4);  // "/v1/" (checked by the caller)
  if (q != std::string_view::npos) v.query = parse_query(target.substr(q + 1));
  v.method = std::string(req.method_string());
  if (v.method == "GET") {
    auto it = v.query.find("list");
    if (it != v.query.end() && parse_bool_true(it->second)) v.method = "LIST";
  }
  v.body = req.body();
  v.token = header(req, "X-Vault-Token");
  if (v.token.empty()) {
    const std::string auth = header(req, "Authorization");
    if (auth.rfind("Bearer ", 0) == 0) v.token = auth.substr(7);
  }
  v.index = header(req, "X-Vault-Index");
  v.inconsistent = header(req, "X-Vault-Inconsistent");
  return v;
}

Response make_response(unsigned version, bool keep_alive, const VaultResponse& v) {
  Response res(static_cast<http::status>(v.status), version);
  res.set(http::field::server, "replnode");
  res.set(http::field::cache_control, "no-store");
  if (!v.body.empty()) res.set(http::field::content_type, "application/json");
  if (!v.index.empty()) res.set("X-Vault-Index", v.index);
  res.keep_alive(keep_alive);
  res.body() = v.body;
  res.prepare_payload();
  return res;
}

}  // namespace

// One HTTP connection: read a request, answer it, repeat while keep-alive. Between requests
// the session is registered as idle with its HttpApi (which may close it to make room).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(HttpApi* api, tcp::socket socket)
      : api_(api), alive_(api->alive_), stream_(std::move(socket)) {
    api_->sessions_++;
  }
  ~HttpSession() {
    if (alive_.expired()) return;
    if (counted_) api_->sessions_--;
    unregister_idle();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(api_->options_.body_bytes_max);
    parser_->header_limit(static_cast<uint32_t>(api_->options_.header_bytes_max));
    stream_.expires_after(std::chrono::microseconds(api_->options_.request_timeout_us));
    idle_key_ = ++api_->idle_seq_;
    api_->idle_[idle_key_] = weak_from_this();
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) {
      if (self->alive_.expired()) return;
      self->unregister_idle();
      if (ec == http::error::body_limit) {
        return self->fail(413, "request body larger than " +
                                   std::to_string(self->api_->options_.body_bytes_max) + " bytes");
      }
      if (ec == http::error::header_limit) return self->fail(431, "request header too large");
      if (ec) return;  // closed, timed out or unparseable: drop the connection
      self->on_request(self->parser_->release());
    });
  }

  // Closes the connection to make room for a new one (its pending read then fails).
  void shed() {
    if (counted_) api_->sessions_--;
    counted_ = false;
    close();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void unregister_idle() {
    if (idle_key_ != 0) api_->idle_.erase(idle_key_);
    idle_key_ = 0;
  }

  void fail(int status, const std::string& message) {
    write(make_response(11, false, vault_error(status, {message})));
  }

  void on_request(Request req) {
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const std::string_view target(req.target().data(), req.target().size());
    if (target.rfind("/v1/", 0) != 0) {
      return write(make_response(version, keep_alive, vault_error(404, {"not found"})));
    }
    stream_.expires_never();  // the answer may wait on the engine (bounded there)
    auto self = shared_from_this();
    api_->vault_.handle(to_vault(req), [self, version, keep_alive](VaultResponse v) {
      if (self->alive_.expired()) return;
      self->write(make_response(version, keep_alive, v));
    });
  }

  void write(Response res) {
    if (alive_.expired()) return;
    auto shared = std::make_shared<Response>(std::move(res));
    auto self = shared_from_this();
    stream_.expires_after(std::chrono::microseconds(api_->options_.request_timeout_us));
    http::async_write(stream_, *shared, [self, shared](beast::error_code ec, size_t) {
      if (ec || self->alive_.expired()) return;
      if (shared->keep_alive()) return self->read();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  HttpApi* api_;
  std::weak_ptr<int> alive_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  uint64_t idle_key_ = 0;
  bool counted_ = true;  // in api_->sessions_
};

HttpApi::HttpApi(asio::io_context& io, VaultApi& vault, HttpApiOptions options)
    : io_(io),
      vault_(vault),
      options_(std::move(options)),
      acceptor_(io),
      alive_(std::make_shared<int>(0)) {}

HttpApi::~HttpApi() {
  alive_.reset();
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [key, weak] : idle_) {
    if (auto s = weak.lock()) s->close();
  }
}

Status HttpApi::start() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(options_.listen.host, ec);
  if (ec) return Status::invalid_argument("http host '" + options_.listen.host + "'");
  tcp::endpoint ep(addr, options_.listen.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::unavailable("http listen on " + options_.listen.host + ":" +
                               std::to_string(options_.listen.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  return Status::ok();
}

bool HttpApi::shed_idle() {
  while (!idle_.empty()) {
    auto it = idle_.begin();
    auto session = it->second.lock();
    idle_.erase(it);
    if (!session) continue;
    session->shed();
    shed_++;
    return true;
  }
  return false;
}

void HttpApi::accept_next() {
  std::weak_ptr<int> alive = alive_;
  acceptor_.async_accept([this, alive](beast::error_code ec, tcp::socket socket) {
    if (alive.expired() || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (sessions_ >= options_.sessions_max && !shed_idle()) {
        refused_++;
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<HttpSession>(this, std::move(socket))->read();
      }
    }
    accept_next();
  });
}

}  // namespace replsim::runtime
