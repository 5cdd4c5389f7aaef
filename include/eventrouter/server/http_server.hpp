#pragma once
// The Beast HTTP/1.1 listener: asynchronous, keep-alive, bounded in connections, header size,
// body size and time, with a graceful stop.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "eventrouter/server/router.hpp"

namespace eventrouter::server {

struct ServerTls {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // when set, clients must present a certificate signed by it
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8088;  // 0: the OS picks
  std::size_t max_request_bytes = 1048576;
  std::size_t max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // first byte to the end of the headers
  std::chrono::milliseconds body_timeout{30000};    // to read the body once the headers are in
  std::chrono::milliseconds idle_timeout{60000};    // a keep-alive connection with no request
  std::optional<ServerTls> tls;                     // HTTPS when set
};

class Session;
template <class Stream>
class BasicSession;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, Router& router,
             metrics::Registry* metrics);
  ~HttpServer();

  // Binds and listens; throws std::system_error with a clear message when it cannot (and
  // std::runtime_error when the TLS files cannot be loaded).
  void listen();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Starts accepting; call after listen().
  void start();

  // Stops accepting, closes idle connections, lets in-flight requests finish and answer with
  // Connection: close. Thread-safe.
  void stop();
  std::size_t open_connections() const { return open_.load(); }

 private:
  template <class Stream>
  friend class BasicSession;
  void do_accept();
  void forget(Session* session);

  boost::asio::io_context& io_;
  ServerOptions options_;
  Router& router_;
  metrics::Registry* metrics_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_{0};
  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace eventrouter::server
