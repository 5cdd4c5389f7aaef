#include "eventrouter/targets/webhook.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>

#include <unistd.h>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "eventrouter/net/hmac.hpp"
#include "eventrouter/targets/header_value.hpp"
#include "eventrouter/targets/oauth_token_source.hpp"
#include "eventrouter/transform/json_text.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto max_idle_time = std::chrono::seconds(30);
constexpr std::size_t response_body_limit = 64 * 1024;
// How long a delivery that failed for lack of local sockets waits, at least, before its retry.
constexpr std::chrono::seconds local_exhaustion_pause{5};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string printable_prefix(std::string_view body, std::size_t limit = 200) {
  std::string out(body.substr(0, limit));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  if (body.size() > limit) out += "...";
  return out;
}

struct Connection {
  Connection(const asio::any_io_executor& executor, asio::ssl::context* ssl) {
    if (ssl) {
      secure.emplace(executor, *ssl);
    } else {
      plain.emplace(executor);
    }
  }
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  template <class F>
  void with_stream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }
  void close() {
    beast::error_code ignored;
    tcp().socket().close(ignored);
  }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
};

class Exchange;

}  // namespace

struct WebhookTarget::State {
  State(WebhookConfig c, asio::io_context& context, std::size_t idle_limit)
      : config(std::move(c)), io(context), max_idle(idle_limit) {}

  // Under `mutex`.
  std::shared_ptr<Connection> take_idle_locked() {
    const auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
      auto connection = std::move(idle.back());
      idle.pop_back();
      if (now - connection->idle_since < max_idle_time) return connection;
      connection->close();
    }
    return nullptr;
  }

  void give_back(std::shared_ptr<Connection> connection) {
    connection->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex);
    // Never more idle connections than requests at once: together with the concurrency limit
    // this bounds the target's sockets to max_concurrency.
    if (stopped || idle.size() >= max_idle) {
      connection->close();
      return;
    }
    idle.push_back(std::move(connection));
  }

  WebhookConfig config;
  asio::io_context& io;
  const std::size_t max_idle;
  std::shared_ptr<asio::ssl::context> ssl;  // the shared default, or the target's own
  std::weak_ptr<OAuthTokenSource> tokens;   // with OAuth; gone once the target is
  std::string port_text;

  std::mutex mutex;
  std::vector<std::shared_ptr<Connection>> idle;
  // Every request not yet completed, for shutdown to abort.
  std::map<const void*, std::weak_ptr<Exchange>> in_flight;
  bool stopped = false;
};

namespace {

// One delivery: connect (or reuse), send, read, classify.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  using State = WebhookTarget::State;

  Exchange(std::shared_ptr<State> state, Invocation invocation, Completion done)
      : state_(std::move(state)), invocation_(std::move(invocation)), done_(std::move(done)) {}

  // Once (never twice), after it was entered in the state's in_flight.
  void start() {
    bool aborted_before_start = false;
    {
      std::lock_guard lock(state_->mutex);
      started_ = true;
      // Shutdown reached it between being entered and starting: it never opens a socket.
      aborted_before_start = abort_requested_;
      if (!aborted_before_start) {
        conn_ = state_->take_idle_locked();
        // Every handler of this exchange runs on one strand; a reused connection's stream is
        // already bound to the strand it was created with.
        executor_ = conn_ ? conn_->tcp().get_executor()
                          : asio::any_io_executor(asio::make_strand(state_->io));
      }
    }
    if (aborted_before_start) return finish(aborted_result());
    if (auto problem = build_request()) {
      // The event cannot be sent as configured; sending it again cannot help.
      return finish(
          DeliveryResult::permanent(ErrorCode::kInvalidParameter,
                                    "webhook " + state_->config.url.authority() + ": " + *problem));
    }
    // On the strand from here, like abort(): a start may meet a shutdown, and the resolver and
    // its timer must not be created while abort() cancels them.
    if (uses_oauth()) {
      return asio::post(executor_, [self = shared_from_this()] { self->request_token(); });
    }
    asio::post(executor_, [self = shared_from_this()] { self->begin(); });
  }

  // From shutdown: closes everything on the exchange's strand; pending operations then fail.
  void abort() {
    {
      std::lock_guard lock(state_->mutex);
      if (!started_) {  // no strand yet: start() sees this and completes without a request
        abort_requested_ = true;
        return;
      }
    }
    auto self = shared_from_this();
    asio::post(executor_, [self] {
      self->aborted_ = true;
      // Nothing of this request is on the network yet; the token fetch ends on its own.
      if (self->waiting_for_token_) return self->finish(aborted_result());
      if (self->resolve_timer_) self->resolve_timer_->cancel();
      if (self->resolver_) self->resolver_->cancel();
      if (self->conn_) self->conn_->close();
    });
  }

  void finish(DeliveryResult result) {
    if (finished_.exchange(true)) return;
    Completion done = std::move(done_);
    {
      std::lock_guard lock(state_->mutex);
      state_->in_flight.erase(this);
    }
    done(std::move(result));
  }

 private:
  static DeliveryResult aborted_result() {
    return DeliveryResult::retryable(ErrorCode::kInternalError,
                                     "webhook request aborted at shutdown");
  }

  // Sets every header through one checked path; says why the request cannot be sent.
  std::optional<std::string> build_request() {
    const WebhookConfig& config = state_->config;
    std::optional<std::string> problem;
    auto set = [&](std::string_view name, std::string_view value) {
      if (problem) return;
      problem = outgoing_value_problem("header " + std::string(name), value);
      if (!problem) request_.set(name, value);
    };
    request_.version(11);
    request_.method(http::string_to_verb(config.method));
    request_.target(config.url.target);
    set(http::to_string(http::field::host), config.url.host_header());
    set(http::to_string(http::field::user_agent), "eventrouter/" EVENTROUTER_VERSION);
    const bool send_body = config.method != "GET";
    if (send_body) {
      set(http::to_string(http::field::content_type), transform::is_valid_json(invocation_.payload)
                                                          ? "application/json"
                                                          : "text/plain; charset=utf-8");
    }
    set("X-Eventrouter-Event-Id", invocation_.event_id);
    set("X-Eventrouter-Rule", invocation_.rule);
    set("X-Eventrouter-Target", invocation_.target);
    set("X-Eventrouter-Attempt", std::to_string(invocation_.attempt));
    for (const auto& [name, value] : config.headers) set(name, value);
    // Basic and API key: fixed at load. OAuth's Bearer token is set once it is known.
    if (config.auth && !config.auth->header_name.empty()) {
      set(config.auth->header_name, config.auth->header_value);
    }
    if (send_body) request_.body() = invocation_.payload;
    if (!config.hmac_secret.empty()) {
      const std::string timestamp = std::to_string(std::time(nullptr));
      set(signature_timestamp_header, timestamp);
      set(signature_header, webhook_signature(config.hmac_secret, timestamp, request_.body()));
    }
    request_.keep_alive(true);
    request_.prepare_payload();
    return problem;
  }

  bool uses_oauth() const {
    return state_->config.auth &&
           state_->config.auth->type == WebhookAuthType::kOAuthClientCredentials;
  }

  // On the strand: asks the target's token source for a token; the answer comes back on the
  // strand (at once when a fresh token is cached).
  void request_token() {
    if (aborted_) return finish(aborted_result());
    auto tokens = state_->tokens.lock();
    if (!tokens) return finish(aborted_result());
    waiting_for_token_ = true;
    auto self = shared_from_this();
    tokens->get([self](OAuthTokenSource::Result token) {
      asio::post(self->executor_,
                 [self, token = std::move(token)]() mutable { self->on_token(std::move(token)); });
    });
  }

  void on_token(OAuthTokenSource::Result token) {
    waiting_for_token_ = false;
    if (aborted_) return finish(aborted_result());
    if (!token) {
      DeliveryResult result = token.error();
      result.error_message =
          "webhook " + state_->config.url.authority() + ": " + result.error_message;
      if (conn_) state_->give_back(std::move(conn_));
      return finish(std::move(result));
    }
    token_ = std::move(*token);
    const std::string value = "Bearer " + token_;
    if (auto problem = outgoing_value_problem("header Authorization", value)) {
      return finish(
          DeliveryResult::permanent(ErrorCode::kInvalidParameter,
                                    "webhook " + state_->config.url.authority() + ": " + *problem));
    }
    request_.set(http::field::authorization, value);
    begin();
  }

  // A 401 to an OAuth token: the token is refreshed once and the request sent again at once.
  bool refresh_token_after(unsigned status, bool keep_connection) {
    if (status != 401 || !uses_oauth() || token_refreshed_ || aborted_) return false;
    token_refreshed_ = true;
    if (auto tokens = state_->tokens.lock()) tokens->refused(token_);
    if (!keep_connection) {
      conn_->close();
      conn_.reset();
    }
    request_token();
    return true;
  }

  void begin() {
    if (aborted_) return finish(aborted_result());
    deadline_ = std::chrono::steady_clock::now() + state_->config.timeout;
    if (conn_) {
      reused_ = true;
      send();
    } else {
      connect_fresh();
    }
  }

  void connect_fresh() {
    reused_ = false;
    conn_ = std::make_shared<Connection>(executor_, state_->ssl.get());
    resolver_.emplace(executor_);
    resolve_timer_.emplace(executor_);
    resolve_timer_->expires_at(deadline_);
    auto self = shared_from_this();
    resolve_timer_->async_wait([self](beast::error_code ec) {
      if (ec) return;
      self->resolve_timed_out_ = true;
      self->resolver_->cancel();
    });
    resolver_->async_resolve(state_->config.url.host, state_->port_text,
                             [self](beast::error_code ec, tcp::resolver::results_type results) {
                               self->resolve_timer_->cancel();
                               if (ec) {
                                 if (self->resolve_timed_out_ && !self->aborted_) {
                                   return self->fail(beast::error::timeout, "resolving the host");
                                 }
                                 return self->fail(ec, "resolving the host");
                               }
                               self->conn_->tcp().expires_at(self->deadline_);
                               self->conn_->tcp().async_connect(
                                   results,
                                   [self](beast::error_code connect_ec, const tcp::endpoint&) {
                                     self->on_connect(connect_ec);
                                   });
                             });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return fail(ec, "connecting");
    if (!conn_->secure) return send();
    const WebhookConfig& config = state_->config;
    beast::error_code parse_error;
    asio::ip::make_address(config.url.host, parse_error);
    if (parse_error) {  // SNI is for names only
      SSL_set_tlsext_host_name(conn_->secure->native_handle(), config.url.host.c_str());
    }
    if (config.tls.verify) {
      conn_->secure->set_verify_mode(asio::ssl::verify_peer);
      conn_->secure->set_verify_callback(asio::ssl::host_name_verification(config.url.host));
    } else {
      conn_->secure->set_verify_mode(asio::ssl::verify_none);
    }
    conn_->tcp().expires_at(deadline_);
    auto self = shared_from_this();
    conn_->secure->async_handshake(asio::ssl::stream_base::client,
                                   [self](beast::error_code handshake_ec) {
                                     if (handshake_ec)
                                       return self->fail(handshake_ec, "TLS handshake");
                                     self->send();
                                   });
  }

  void send() {
    conn_->tcp().expires_at(deadline_);
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      http::async_write(stream, request_, [self](beast::error_code ec, std::size_t) {
        if (ec) return self->fail(ec, "sending the request");
        self->receive();
      });
    });
  }

  void receive() {
    parser_.emplace();
    parser_->body_limit(response_body_limit);
    auto self = shared_from_this();
    conn_->with_stream([&](auto& stream) {
      http::async_read(stream, conn_->buffer, *parser_,
                       [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
    });
  }

  void on_read(beast::error_code ec) {
    const std::string authority = state_->config.url.authority();
    if (ec == http::error::body_limit && parser_->is_header_done()) {
      // Only the status matters; a huge body just means this connection is not reused.
      auto& response = parser_->get();
      DeliveryResult result =
          classify_http_status(response.result_int(), response.reason(), authority, "");
      conn_->close();
      return finish(std::move(result));
    }
    if (ec) return fail(ec, "reading the response");
    auto& response = parser_->get();
    const bool keep_connection = response.keep_alive() && !parser_->need_eof() && !aborted_;
    if (refresh_token_after(response.result_int(), keep_connection)) return;
    DeliveryResult result =
        classify_http_status(response.result_int(), response.reason(), authority, response.body());
    if (result.outcome == Outcome::kRetryable) {
      const auto retry_after = response.find(http::field::retry_after);
      if (retry_after != response.end()) {
        result.retry_after =
            parse_retry_after(retry_after->value(), std::chrono::system_clock::now());
      }
    }
    if (keep_connection) {
      state_->give_back(std::move(conn_));
    } else {
      conn_->close();
    }
    finish(std::move(result));
  }

  void fail(beast::error_code ec, const char* phase) {
    if (conn_) conn_->close();
    if (aborted_) return finish(aborted_result());
    // A kept-alive connection the server has since closed fails at once; try a fresh one.
    const bool stale = ec == http::error::end_of_stream || ec == asio::error::eof ||
                       ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
    if (reused_ && !retried_ && stale && std::chrono::steady_clock::now() < deadline_) {
      retried_ = true;
      conn_.reset();
      return connect_fresh();
    }
    const std::string authority = state_->config.url.authority();
    if (ec == beast::error::timeout) {
      return finish(DeliveryResult::retryable(
          ErrorCode::kTimeout, "webhook " + authority + ": no response within " +
                                   std::to_string(state_->config.timeout.count()) + "ms (" + phase +
                                   ")"));
    }
    DeliveryResult result = DeliveryResult::retryable(
        ErrorCode::kConnectionFailure,
        "webhook " + authority + ": " + phase + " failed: " + ec.message());
    if (is_local_exhaustion(ec)) {
      // This host is out of ports, descriptors or buffers: not the receiver's fault, and trying
      // again at once would only keep it so. The retry waits at least this long.
      result.error_message += " (local resources exhausted)";
      result.retry_after = local_exhaustion_pause;
    }
    finish(std::move(result));
  }

  static bool is_local_exhaustion(const beast::error_code& ec) {
    namespace errc = boost::system::errc;
    return ec == errc::address_not_available || ec == errc::too_many_files_open ||
           ec == errc::too_many_files_open_in_system || ec == errc::no_buffer_space;
  }

  std::shared_ptr<State> state_;
  Invocation invocation_;
  Completion done_;
  asio::any_io_executor executor_;
  std::shared_ptr<Connection> conn_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::optional<tcp::resolver> resolver_;
  std::optional<asio::steady_timer> resolve_timer_;
  std::chrono::steady_clock::time_point deadline_;
  std::string token_;  // the OAuth token this request carries
  bool reused_ = false;
  bool retried_ = false;
  bool waiting_for_token_ = false;  // only touched on the strand
  bool token_refreshed_ = false;    // only touched on the strand
  bool resolve_timed_out_ = false;
  bool aborted_ = false;          // only touched on the strand
  bool started_ = false;          // under the state's mutex
  bool abort_requested_ = false;  // under the state's mutex
  std::atomic<bool> finished_{false};
};

}  // namespace

std::optional<WebhookConfig> read_webhook_config(const TargetSpec& spec,
                                                 std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  WebhookConfig config;
  config.rule = spec.rule;
  config.id = spec.id;
  if (auto url = reader.string("url", true)) {
    auto parsed = net::parse_http_url(*url);
    if (!parsed) {
      reader.problem(reader.get("url"), parsed.error());
    } else {
      config.url = std::move(*parsed);
    }
  }
  if (auto method = reader.choice("method", "POST", {"POST", "PUT", "PATCH", "DELETE", "GET"})) {
    config.method = *method;
  }
  if (auto headers = reader.string_map("headers")) {
    for (const auto& [name, value] : *headers) {
      static const std::vector<std::string> reserved = {
          "Host",       "Content-Length", "Transfer-Encoding",
          "Connection", signature_header, signature_timestamp_header};
      if (!is_header_token(name)) {
        reader.problem(reader.get("headers"), "header name '" + name + "' is not a valid token");
      } else if (std::any_of(reserved.begin(), reserved.end(),
                             [&](const std::string& r) { return iequals(r, name); })) {
        reader.problem(reader.get("headers"),
                       "header '" + name + "' is set by eventrouter and cannot be configured");
      } else if (auto problem = outgoing_value_problem("header '" + name + "'", value)) {
        // The same check every request's headers pass; the value is not quoted: it may be a
        // secret.
        reader.problem(reader.get("headers"), *problem);
      }
    }
    config.headers = std::move(*headers);
  }
  config.auth = read_webhook_auth(reader, spec.node, config.headers);
  if (auto timeout = reader.duration("timeout", config.timeout, std::chrono::milliseconds(10),
                                     std::chrono::minutes(5))) {
    config.timeout = *timeout;
  }
  if (auto secret = reader.string("hmac_secret", false)) {
    if (secret->empty()) reader.problem(reader.get("hmac_secret"), "hmac_secret is empty");
    config.hmac_secret = std::move(*secret);
  }
  if (reader.has("tls")) {
    if (auto tls = reader.child("tls")) {
      tls->check_keys({"ca_file", "verify", "client_cert_file", "client_key_file"});
      if (!config.url.tls && !config.url.host.empty()) {
        tls->problem(reader.get("tls"), "tls options need an https:// url");
      }
      for (const char* key : {"ca_file", "client_cert_file", "client_key_file"}) {
        if (auto file = tls->string(key, false)) {
          if (::access(file->c_str(), R_OK) != 0) {
            tls->problem(tls->get(key), tls->name(key) + " " + *file + " cannot be read");
          }
          if (std::string_view(key) == "ca_file") config.tls.ca_file = *file;
          if (std::string_view(key) == "client_cert_file") config.tls.client_cert_file = *file;
          if (std::string_view(key) == "client_key_file") config.tls.client_key_file = *file;
        }
      }
      if (config.tls.client_cert_file.empty() != config.tls.client_key_file.empty()) {
        tls->problem(reader.get("tls"), "tls.client_cert_file and tls.client_key_file go together");
      }
      if (auto verify = tls->boolean("verify", true)) config.tls.verify = *verify;
    }
  }
  if (reader.failed()) return std::nullopt;
  return config;
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  return "v1=" + net::hmac_sha256_hex(secret, message);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  constexpr long long cap = 86400;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(std::min(seconds, cap));
  }
  // An HTTP-date: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* parsed = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (parsed == nullptr || *parsed != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(::timegm(&parts));
  const auto delta = std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
  return std::chrono::seconds(std::clamp<long long>(delta, 0, cap));
}

DeliveryResult classify_http_status(unsigned status, std::string_view reason,
                                    const std::string& authority, std::string_view body) {
  DeliveryResult result = [&] {
    if (status >= 200 && status < 300) return DeliveryResult::ok();
    std::string message = "webhook " + authority + " answered HTTP " + std::to_string(status);
    if (!reason.empty()) message += " " + std::string(reason);
    if (!body.empty()) message += ": " + printable_prefix(body);
    if (status == 429) return DeliveryResult::retryable(ErrorCode::kThrottling, message);
    if (status >= 500 || status == 401 || status == 407 || status == 408 || status == 409) {
      return DeliveryResult::retryable(ErrorCode::kErrorFromTarget, message);
    }
    if (status >= 300 && status < 400) message += " (redirects are not followed)";
    return DeliveryResult::permanent(ErrorCode::kErrorFromTarget, message);
  }();
  result.status_code = static_cast<int>(status);
  return result;
}

WebhookTarget::WebhookTarget(WebhookConfig config, TargetContext& context,
                             std::size_t max_idle_connections)
    : state_(std::make_shared<State>(std::move(config), context.io, max_idle_connections)) {
  const WebhookConfig& c = state_->config;
  state_->port_text = std::to_string(c.url.port);
  if (c.url.tls) {
    try {
      if (c.tls.ca_file.empty() && c.tls.client_cert_file.empty()) {
        state_->ssl = context.clients->default_tls_client();
      } else {
        // Its own trust store or certificate: a context of its own.
        auto& ssl =
            *(state_->ssl = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client));
        SSL_CTX_set_min_proto_version(ssl.native_handle(), TLS1_2_VERSION);
        if (c.tls.ca_file.empty()) {
          ssl.set_default_verify_paths();
        } else {
          ssl.load_verify_file(c.tls.ca_file);
        }
        if (!c.tls.client_cert_file.empty()) {
          ssl.use_certificate_chain_file(c.tls.client_cert_file);
          ssl.use_private_key_file(c.tls.client_key_file, asio::ssl::context::pem);
        }
      }
    } catch (const boost::system::system_error& error) {
      throw std::invalid_argument("webhook target '" + c.id +
                                  "': cannot set up TLS: " + error.code().message());
    }
  }
  if (c.auth && c.auth->type == WebhookAuthType::kOAuthClientCredentials) {
    tokens_ = std::make_shared<OAuthTokenSource>(c.auth->oauth, context.metrics, c.rule, c.id);
    state_->tokens = tokens_;
  }
}

WebhookTarget::~WebhookTarget() {
  shutdown(std::chrono::milliseconds(0));
}

void WebhookTarget::send(Invocation invocation, Completion done) {
  auto exchange = std::make_shared<Exchange>(state_, std::move(invocation), std::move(done));
  {
    std::lock_guard lock(state_->mutex);
    state_->in_flight.emplace(exchange.get(), exchange);
  }
  exchange->start();
}

void WebhookTarget::on_stop() {
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    idle.swap(state_->idle);
  }
  for (auto& connection : idle) connection->close();
}

void WebhookTarget::abort() {
  // After the grace period: a token fetch still under way ends now, and so do its waiters.
  if (tokens_) tokens_->stop();
  std::vector<std::weak_ptr<Exchange>> remaining;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& [key, exchange] : state_->in_flight) remaining.push_back(exchange);
  }
  // Aborted requests complete on the io_context, as retryable.
  for (auto& weak : remaining) {
    if (auto exchange = weak.lock()) exchange->abort();
  }
}

// max_concurrency when the target does not set it.
constexpr int kDefaultConcurrency = 16;

const TargetType& webhook_target_type() {
  static const TargetType type{
      "webhook",
      {"url", "method", "headers", "timeout", "hmac_secret", "tls", "auth"},
      {},
      {.max_concurrency = kDefaultConcurrency, .max_concurrency_limit = 256},
      [](const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
        read_webhook_config(spec, problems);
      },
      [](const TargetSpec& spec, TargetContext& context, const TargetLimits& limits,
         std::vector<config::Diagnostic>& problems) -> std::unique_ptr<Target> {
        auto config = read_webhook_config(spec, problems);
        if (!config) return nullptr;
        return std::make_unique<WebhookTarget>(
            std::move(*config), context,
            static_cast<std::size_t>(limits.max_concurrency.value_or(kDefaultConcurrency)));
      }};
  return type;
}

}  // namespace eventrouter::targets
