#include "eventrouter/server/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <system_error>

#include "session.hpp"

namespace eventrouter::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpServer::HttpServer(net::io_context& io, ServerOptions options, Router& router,
                       metrics::Registry* metrics)
    : io_(io),
      options_(std::move(options)),
      router_(router),
      metrics_(metrics),
      acceptor_(net::make_strand(io)) {
  if (metrics_) {
    metrics_->gauge_callback("eventrouter_http_open_connections", "Open HTTP connections.",
                             [this] { return static_cast<double>(open_.load()); });
  }
}

HttpServer::~HttpServer() = default;

namespace {

std::unique_ptr<net::ssl::context> make_tls_context(const ServerTls& tls) {
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  auto load = [](const std::string& what, const std::string& file, auto&& action) {
    boost::system::error_code ec;
    action(ec);
    if (ec) throw std::runtime_error("tls." + what + " " + file + ": " + ec.message());
  };
  load("cert_file", tls.cert_file,
       [&](auto& ec) { context->use_certificate_chain_file(tls.cert_file, ec); });
  load("key_file", tls.key_file,
       [&](auto& ec) { context->use_private_key_file(tls.key_file, net::ssl::context::pem, ec); });
  if (!tls.client_ca_file.empty()) {
    load("client_ca_file", tls.client_ca_file,
         [&](auto& ec) { context->load_verify_file(tls.client_ca_file, ec); });
    context->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

}  // namespace

void HttpServer::listen() {
  if (options_.tls) tls_ = make_tls_context(*options_.tls);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  if (ec) throw std::system_error(ec, "listen: \"" + options_.host + "\" is not an IP address");
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::system_error(
        ec, "cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
}

tcp::endpoint HttpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void HttpServer::start() {
  net::post(acceptor_.get_executor(), [this] { do_accept(); });
}

void HttpServer::do_accept() {
  acceptor_.async_accept(
      net::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
        if (stopping_.load() || ec == net::error::operation_aborted) return;
        if (ec) {
          // Out of descriptors or similar: say so, and try again shortly instead of spinning.
          spdlog::warn("accept failed: {}", ec.message());
          auto timer = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                           std::chrono::milliseconds(100));
          timer->async_wait([this, timer](boost::system::error_code) {
            if (!stopping_.load()) do_accept();
          });
          return;
        }
        const bool over_limit = open_.load() >= options_.max_connections;
        if (!over_limit) open_.fetch_add(1);
        if (over_limit && metrics_)
          metrics_
              ->counter("eventrouter_http_connections_refused_total",
                        "Connections answered 503 because limits.max_connections was reached.")
              .inc();
        std::shared_ptr<Session> session;
        if (tls_) {
          session = std::make_shared<BasicSession<TlsStream>>(std::move(socket), *this, over_limit,
                                                              tls_.get());
        } else {
          session = std::make_shared<BasicSession<PlainStream>>(std::move(socket), *this,
                                                                over_limit, nullptr);
        }
        {
          std::lock_guard lock(sessions_mutex_);
          sessions_[session.get()] = session;
        }
        session->run();
        do_accept();
      });
}

void HttpServer::forget(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [raw, weak] : sessions_)
      if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  for (auto& session : live) session->stop();
}

}  // namespace eventrouter::server
