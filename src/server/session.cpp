#include "session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>

namespace eventrouter::server {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {

PlainStream make_stream(net::ip::tcp::socket socket, PlainStream*, net::ssl::context*) {
  return PlainStream(std::move(socket));
}

TlsStream make_stream(net::ip::tcp::socket socket, TlsStream*, net::ssl::context* tls) {
  return TlsStream(std::move(socket), *tls);
}

// RFC 9112 6.1: a request whose transfer coding is not chunked (alone, once) cannot be framed
// safely; read with its Content-Length instead, it is how requests get smuggled past proxies.
std::optional<Response> framing_problem(const RequestHeader& header) {
  const auto codings = header.count(http::field::transfer_encoding);
  if (codings == 0) return std::nullopt;
  const auto coding = header[http::field::transfer_encoding];
  if (codings == 1 && beast::iequals(coding, "chunked")) return std::nullopt;
  return json_error(http::status::bad_request, "UnsupportedTransferEncoding",
                    "Transfer-Encoding " + std::string(coding.substr(0, 100)) +
                        (codings > 1 ? " (sent more than once)" : "") +
                        " is not supported: send the body with a Content-Length, or chunked");
}

}  // namespace

template <class Stream>
BasicSession<Stream>::BasicSession(net::ip::tcp::socket socket, HttpServer& server, bool over_limit,
                                   net::ssl::context* tls)
    : stream_(make_stream(std::move(socket), static_cast<Stream*>(nullptr), tls)),
      server_(server),
      over_limit_(over_limit) {}

template <class Stream>
BasicSession<Stream>::~BasicSession() {
  server_.forget(this);
  if (!over_limit_) server_.open_.fetch_sub(1);
}

template <class Stream>
void BasicSession<Stream>::run() {
  auto self = this->shared_from_this();
  net::dispatch(stream_.get_executor(), [self] {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      self->tcp().expires_after(self->server_.options_.header_timeout);
      self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) {
          spdlog::info("TLS handshake failed: {}", ec.message());
          return self->close();
        }
        self->do_read_header();
      });
    } else {
      self->do_read_header();
    }
  });
}

template <class Stream>
void BasicSession<Stream>::stop() {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->closing_ = true;
    if (!self->busy_) self->close();
  });
}

template <class Stream>
void BasicSession<Stream>::do_read_header() {
  if (closing_ || server_.stopping_.load()) return close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.options_.max_header_bytes));
  parser_->body_limit(server_.options_.max_request_bytes);
  if (buffer_.size() == 0) {
    // Between requests, wait for the first byte under the idle timeout, then the headers under
    // the (shorter) header timeout: an idle keep-alive connection and a slow sender are
    // different things. A new connection owes its first request within the header timeout:
    // otherwise silent connections could hold every slot for the idle timeout.
    tcp().expires_after(answered_ ? server_.options_.idle_timeout
                                  : server_.options_.header_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->on_read_error(ec, false);
                              self->buffer_.commit(n);
                              self->do_read_header();
                            });
    return;
  }
  tcp().expires_after(server_.options_.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_header(ec);
                          });
}

template <class Stream>
void BasicSession<Stream>::on_header(beast::error_code ec) {
  if (ec) return on_read_error(ec, false);
  busy_ = true;
  if (over_limit_) {
    auto response = json_error(http::status::service_unavailable, "TooManyConnections",
                               "the server is at limits.max_connections (" +
                                   std::to_string(server_.options_.max_connections) +
                                   "); retry, or reuse connections (keep-alive)");
    set_retry_after(response, std::chrono::seconds(1));
    return send(std::move(response), true);
  }
  const auto& header = parser_->get();
  if (auto refusal = framing_problem(header)) {
    server_.router_.record(Router::route_of(header.target(), nullptr, header.method()), *refusal);
    return send(std::move(*refusal), true);
  }
  if (auto refusal = server_.router_.precheck(header)) {
    // Never read a body we refuse; close unless the request had none.
    const bool has_body = !parser_->is_done();
    server_.router_.record(Router::route_of(header.target(), nullptr, header.method()), *refusal);
    return send(std::move(*refusal), has_body || !header.keep_alive());
  }
  auto read_body = [self = this->shared_from_this()] {
    self->tcp().expires_after(self->server_.options_.body_timeout);
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code body_ec, std::size_t) { self->on_body(body_ec); });
  };
  if (!parser_->is_done() && beast::iequals(header[http::field::expect], "100-continue")) {
    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(
        stream_, net::buffer(continue_line.data(), continue_line.size()),
        [self = this->shared_from_this(), read_body](beast::error_code write_ec, std::size_t) {
          if (write_ec) return self->close();
          read_body();
        });
    return;
  }
  read_body();
}

template <class Stream>
void BasicSession<Stream>::on_body(beast::error_code ec) {
  if (ec) return on_read_error(ec, true);
  Request request = parser_->release();
  const bool keep_alive = request.keep_alive();
  const bool head = request.method() == http::verb::head;
  server_.router_.handle(
      std::move(request), [self = this->shared_from_this(), keep_alive, head](Response response) {
        auto shared = std::make_shared<Response>(std::move(response));
        net::post(self->stream_.get_executor(), [self, shared, keep_alive, head] {
          if (head) {  // the GET answer's length, without its body
            shared->content_length(shared->body().size());
            shared->body().clear();
          }
          self->send(std::move(*shared), !keep_alive);
        });
      });
}

template <class Stream>
void BasicSession<Stream>::on_read_error(beast::error_code ec, bool headers_done) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset || ec == net::error::eof) {
    return close();
  }
  if (ec == beast::error::timeout) {
    // Beast has already closed the socket; nothing can be sent. Say why in the log.
    if (headers_done || buffer_.size() > 0)
      spdlog::info("closed a connection that sent its request too slowly ({})",
                   headers_done ? "body" : "headers");
    return close();
  }
  busy_ = true;
  if (ec == http::error::header_limit) {
    return send(json_error(http::status::request_header_fields_too_large, "HeadersTooLarge",
                           "request headers exceed " +
                               std::to_string(server_.options_.max_header_bytes) + " bytes"),
                true);
  }
  if (ec == http::error::body_limit) {
    return send(json_error(http::status::payload_too_large, "RequestTooLarge",
                           "the body exceeds limits.max_request_bytes (" +
                               std::to_string(server_.options_.max_request_bytes) +
                               " bytes): send fewer events per request"),
                true);
  }
  send(json_error(http::status::bad_request, "BadRequest",
                  "malformed HTTP request: " + ec.message()),
       true);
}

template <class Stream>
void BasicSession<Stream>::send(Response response, bool close_after) {
  if (closing_ || server_.stopping_.load()) close_after = true;
  response.keep_alive(!close_after);
  if (response.find(http::field::server) == response.end())
    response.set(http::field::server, "eventrouter/" EVENTROUTER_VERSION);
  if (response.body().size() || !response.has_content_length()) response.prepare_payload();
  response_ = std::make_shared<Response>(std::move(response));
  tcp().expires_after(server_.options_.body_timeout);
  http::async_write(stream_, *response_,
                    [self = this->shared_from_this(), close_after](
                        beast::error_code ec, std::size_t) { self->on_write(close_after, ec); });
}

template <class Stream>
void BasicSession<Stream>::on_write(bool close_after, beast::error_code ec) {
  response_.reset();
  busy_ = false;
  answered_ = true;
  if (ec || close_after) return close();
  do_read_header();
}

template <class Stream>
void BasicSession<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    // Say goodbye at the TLS layer, briefly; a peer that does not answer is cut off.
    tcp().expires_after(std::chrono::seconds(2));
    stream_.async_shutdown(
        [self = this->shared_from_this()](beast::error_code) { self->tcp().close(); });
  } else {
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.close();
  }
}

template class BasicSession<PlainStream>;
template class BasicSession<TlsStream>;

}  // namespace eventrouter::server
