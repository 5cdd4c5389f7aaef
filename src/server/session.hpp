#pragma once
// One HTTP connection: read headers, precheck, read the body, route, write, repeat. The same
// code serves plain TCP and TLS; only the handshake and the close differ.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <optional>

#include "eventrouter/server/http_server.hpp"

namespace eventrouter::server {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class Session {
 public:
  virtual ~Session() = default;
  virtual void run() = 0;
  // Closes the connection if it is waiting for a request; otherwise the answer in progress
  // is sent with Connection: close.
  virtual void stop() = 0;
};

template <class Stream>
class BasicSession : public Session, public std::enable_shared_from_this<BasicSession<Stream>> {
 public:
  // `over_limit`: the server is at max_connections; read the request and answer 503.
  BasicSession(boost::asio::ip::tcp::socket socket, HttpServer& server, bool over_limit,
               boost::asio::ssl::context* tls);
  ~BasicSession() override;

  void run() override;
  void stop() override;

 private:
  void do_read_header();
  void on_header(boost::beast::error_code ec);
  void on_body(boost::beast::error_code ec);
  void on_read_error(boost::beast::error_code ec, bool headers_done);
  void send(Response response, bool close_after);
  void on_write(bool close, boost::beast::error_code ec);
  void close();
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;  // kept alive for the asynchronous write
  HttpServer& server_;
  bool over_limit_;
  bool busy_ = false;     // a request is between its headers and its answer
  bool closing_ = false;  // close after the current answer
  bool closed_ = false;
  bool answered_ = false;  // an answer has been sent: later waits are keep-alive idleness
};

}  // namespace eventrouter::server
