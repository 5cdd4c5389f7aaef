#include "eventrouter/targets/shared_clients.hpp"

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>

namespace eventrouter::targets {

std::shared_ptr<boost::asio::ssl::context> SharedClients::default_tls_client() {
  std::lock_guard lock(mutex_);
  if (!default_tls_client_) {
    auto context =
        std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_default_verify_paths();
    default_tls_client_ = std::move(context);
  }
  return default_tls_client_;
}

}  // namespace eventrouter::targets
