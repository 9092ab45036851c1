#include "runtime/http_api.h"

#include <google/protobuf/util/json_util.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <optional>

namespace replsim::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Reply = std::function<void(Response)>;

namespace {

constexpr std::string_view kKvPrefix = "/v1/kv/";
constexpr std::string_view kReplPrefix = "/v1/sys/replication/";
constexpr std::string_view kLoginPrefix = "/v1/auth/userpass/login/";
constexpr std::string_view kUsersPrefix = "/v1/auth/userpass/users/";

std::string to_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, o).ok()) return "{}";
  return out + "\n";
}

http::status http_status(proto::ErrorCode e) {
  switch (e) {
    case proto::OK:
      return http::status::ok;
    case proto::NOT_FOUND:
      return http::status::not_found;
    case proto::PERMISSION_DENIED:
      return http::status::forbidden;
    case proto::UNAVAILABLE:
      return http::status::service_unavailable;
    case proto::TIMEOUT:
      return http::status::gateway_timeout;
    case proto::INVALID_ARGUMENT:
      return http::status::bad_request;
    case proto::REQUIRED_INDEX_STATE_NOT_PRESENT:
      return http::status::precondition_failed;
    case proto::FENCED:
      return http::status::conflict;
    case proto::NOT_REPLICATING:
      return http::status::bad_request;
    default:
      return http::status::internal_server_error;
  }
}

Response make_response(const Request& req, http::status st, std::string body,
                       const char* content_type = "application/json") {
  Response res(st, req.version());
  res.set(http::field::server, "replnode");
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(const Request& req, http::status st, const std::string& message) {
  proto::ClientResponse r;
  r.set_error(st == http::status::not_found ? proto::NOT_FOUND : proto::INVALID_ARGUMENT);
  r.set_error_message(message);
  return make_response(req, st, to_json(r));
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int v = 0;
      if (std::sscanf(std::string(in.substr(i + 1, 2)).c_str(), "%2x", &v) == 1) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "epoch:index" → IndexState.
std::optional<proto::IndexState> parse_index_state(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  proto::IndexState s;
  try {
    s.set_epoch(std::stoull(std::string(text.substr(0, colon))));
    s.set_wal_index(std::stoull(std::string(text.substr(colon + 1))));
  } catch (...) {
    return std::nullopt;
  }
  return s;
}

}  // namespace

std::string json_string_field(const std::string& body, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  size_t at = body.find(quoted);
  if (at == std::string::npos) return "";
  at += quoted.size();
  while (at < body.size() && (body[at] == ' ' || body[at] == '\t' || body[at] == '\n')) ++at;
  if (at >= body.size() || body[at] != ':') return "";
  ++at;
  while (at < body.size() && (body[at] == ' ' || body[at] == '\t' || body[at] == '\n')) ++at;
  if (at >= body.size() || body[at] != '"') return "";
  std::string out;
  for (++at; at < body.size() && body[at] != '"'; ++at) {
    if (body[at] == '\\' && at + 1 < body.size()) ++at;  // \" and \\ (no \uXXXX)
    out += body[at];
  }
  return out;
}

// One HTTP connection: read a request, answer it, repeat while keep-alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(HttpApi* api, tcp::socket socket)
      : api_(api), alive_(api->alive_), stream_(std::move(socket)) {
    api_->sessions_++;
  }
  ~HttpSession() {
    if (!alive_.expired()) api_->sessions_--;
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(api_->options_.body_bytes_max);
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) {
      if (ec || self->alive_.expired()) return;  // closed, bad request or too large
      self->request_ = parser_release(*self->parser_);
      self->route(self->request_, [self](Response res) { self->write(std::move(res)); });
    });
  }

 private:
  static Request parser_release(http::request_parser<http::string_body>& p) { return p.release(); }

  void write(Response res) {
    if (alive_.expired()) return;
    auto shared = std::make_shared<Response>(std::move(res));
    auto self = shared_from_this();
    http::async_write(stream_, *shared, [self, shared](beast::error_code ec, size_t) {
      if (ec || self->alive_.expired()) return;
      if (shared->keep_alive()) return self->read();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  void route(const Request& req, Reply reply);
  void route_kv(const Request& req, const std::string& path, bool list, Reply reply);
  void route_replication(const Request& req, const std::string& action, Reply reply);
  void send_client(const Request& req, proto::ClientRequest cr, bool raw_read, Reply reply);
  void send_operator(const Request& req, proto::OperatorRequest op, Reply reply);

  HttpApi* api_;
  std::weak_ptr<int> alive_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
};

void HttpSession::route(const Request& req, Reply reply) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  const std::string path = percent_decode(target.substr(0, q));
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  const http::verb m = req.method();
  if (starts_with(path, kKvPrefix)) {
    const bool list = m == http::verb::get && query.find("list=true") != std::string::npos;
    return route_kv(req, path.substr(kKvPrefix.size()), list, std::move(reply));
  }
  if (starts_with(path, kReplPrefix)) {
    return route_replication(req, path.substr(kReplPrefix.size()), std::move(reply));
  }
  if (m == http::verb::post && starts_with(path, kLoginPrefix)) {
    proto::ClientRequest cr;
    cr.mutable_login()->set_username(path.substr(kLoginPrefix.size()));
    cr.mutable_login()->set_password(json_string_field(req.body(), "password"));
    return send_client(req, std::move(cr), false, std::move(reply));
  }
  if (m == http::verb::post && starts_with(path, kUsersPrefix)) {
    proto::OperatorRequest op;
    op.mutable_create_user()->set_username(path.substr(kUsersPrefix.size()));
    op.mutable_create_user()->set_password(json_string_field(req.body(), "password"));
    return send_operator(req, std::move(op), std::move(reply));
  }
  if (m == http::verb::get && path == "/v1/auth/token/lookup-self") {
    proto::ClientRequest cr;
    cr.mutable_token_lookup();
    return send_client(req, std::move(cr), false, std::move(reply));
  }
  reply(error_response(req, http::status::not_found, "no route for " + path));
}

void HttpSession::route_kv(const Request& req, const std::string& path, bool list, Reply reply) {
  proto::ClientRequest cr;
  const http::verb m = req.method();
  if (list) {
    cr.mutable_list()->set_prefix(path);
  } else if (m == http::verb::get) {
    cr.mutable_read()->set_path(path);
    if (auto h = req.find("X-Vault-Index"); h != req.end()) {
      auto state = parse_index_state(std::string_view(h->value().data(), h->value().size()));
      if (!state)
        return reply(
            error_response(req, http::status::bad_request, "X-Vault-Index: want epoch:index"));
      *cr.mutable_required_index_state() = *state;
    }
    if (auto h = req.find("X-Vault-Inconsistent");
        h != req.end() && h->value() == "forward-active-node") {
      cr.set_stale_policy(proto::FORWARD);
    }
  } else if (m == http::verb::put || m == http::verb::post) {
    cr.mutable_write()->set_path(path);
    cr.mutable_write()->set_value(req.body());
  } else if (m == http::verb::delete_) {
    cr.mutable_del()->set_path(path);
  } else {
    return reply(error_response(req, http::status::method_not_allowed, "method"));
  }
  send_client(req, std::move(cr), cr.has_read(), std::move(reply));
}

void HttpSession::route_replication(const Request& req, const std::string& action, Reply reply) {
  proto::OperatorRequest op;
  const bool post = req.method() == http::verb::post;
  if (action == "status" && req.method() == http::verb::get) {
    op.mutable_status();
  } else if (post && action == "primary/enable") {
    op.mutable_enable_primary();
  } else if (post && action == "primary/secondary-token") {
    op.mutable_secondary_token()->set_id(json_string_field(req.body(), "id"));
    const std::string ttl = json_string_field(req.body(), "ttl_us");
    if (!ttl.empty()) op.mutable_secondary_token()->set_ttl_us(std::atoll(ttl.c_str()));
  } else if (post && (action == "primary/demote" || action == "secondary/demote")) {
    op.mutable_demote();
  } else if (post && action == "secondary/enable") {
    op.mutable_enable_secondary()->set_token(json_string_field(req.body(), "token"));
  } else if (post && action == "secondary/update-primary") {
    op.mutable_update_primary()->set_token(json_string_field(req.body(), "token"));
  } else if (post && action == "secondary/promote") {
    op.mutable_promote();
  } else {
    return reply(error_response(req, http::status::not_found, "no replication action " + action));
  }
  send_operator(req, std::move(op), std::move(reply));
}

void HttpSession::send_client(const Request& req, proto::ClientRequest cr, bool raw_read,
                              Reply reply) {
  if (auto h = req.find("X-Vault-Token"); h != req.end()) cr.set_token(std::string(h->value()));
  auto self = shared_from_this();
  api_->client_.send(
      api_->node_, std::move(cr),
      [self, raw_read, reply](const proto::ClientResponse& r) {
        const Request& req = self->request_;
        if (!raw_read || r.error() != proto::OK) {
          return reply(make_response(req, http_status(r.error()), to_json(r)));
        }
        if (!r.found()) return reply(make_response(req, http::status::not_found, to_json(r)));
        Response res = make_response(req, http::status::ok, r.value(), "application/octet-stream");
        res.set("X-Replsim-Served-By-Node", std::to_string(r.served_by_node()));
        res.set("X-Replsim-Served-By-Cluster", std::to_string(r.served_by_cluster()));
        res.set("X-Vault-Index", std::to_string(r.index_state().epoch()) + ":" +
                                     std::to_string(r.index_state().wal_index()));
        if (!r.warning().empty()) res.set("X-Replsim-Warning", r.warning());
        reply(std::move(res));
      },
      api_->options_.client_timeout_us);
}

void HttpSession::send_operator(const Request& req, proto::OperatorRequest op, Reply reply) {
  auto self = shared_from_this();
  api_->client_.send_operator(
      api_->node_, std::move(op),
      [self, reply](const proto::OperatorResponse& r) {
        reply(make_response(self->request_, http_status(r.error()), to_json(r)));
      },
      api_->options_.operator_timeout_us);
}

HttpApi::HttpApi(asio::io_context& io, cluster::ApiClient& client, NodeId node,
                 HttpApiOptions options)
    : io_(io),
      client_(client),
      node_(node),
      options_(std::move(options)),
      acceptor_(io),
      alive_(std::make_shared<int>(0)) {}

HttpApi::~HttpApi() {
  alive_.reset();
  beast::error_code ignored;
  acceptor_.close(ignored);
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

void HttpApi::accept_next() {
  std::weak_ptr<int> alive = alive_;
  acceptor_.async_accept([this, alive](beast::error_code ec, tcp::socket socket) {
    if (alive.expired() || ec == asio::error::operation_aborted) return;
    if (!ec && sessions_ < options_.sessions_max) {
      std::make_shared<HttpSession>(this, std::move(socket))->read();
    }
    accept_next();
  });
}

}  // namespace replsim::runtime
