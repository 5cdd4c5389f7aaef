#pragma once
// One HTTP connection: read headers, precheck, read the body, route, write, repeat.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>

#include "eventrouter/server/http_server.hpp"

namespace eventrouter::server {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `over_limit`: the server is at max_connections; read the request and answer 503.
  Session(boost::asio::ip::tcp::socket socket, HttpServer& server, bool over_limit);
  ~Session();

  void run();
  // Closes the connection if it is waiting for a request; otherwise the answer in progress
  // is sent with Connection: close.
  void stop();

 private:
  void do_read_header();
  void on_header(boost::beast::error_code ec);
  void on_body(boost::beast::error_code ec);
  void on_read_error(boost::beast::error_code ec, bool headers_done);
  void send(Response response, bool close_after);
  void on_write(bool close, boost::beast::error_code ec);
  void close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;  // kept alive for the asynchronous write
  HttpServer& server_;
  bool over_limit_;
  bool busy_ = false;     // a request is between its headers and its answer
  bool closing_ = false;  // close after the current answer
};

}  // namespace eventrouter::server
