#pragma once
// Clients that the targets of one daemon share instead of each building its own. Today: the
// TLS client context for HTTPS to servers the system trusts, which every webhook without its
// own ca_file or client certificate uses. Building one reads the system's trust store; with
// hundreds of webhook targets, every start and every reload paid that once per target.

#include <memory>
#include <mutex>

namespace boost::asio::ssl {
class context;
}

namespace eventrouter::targets {

class SharedClients {
 public:
  // TLS 1.2 or later, peers verified against the system's trusted CAs (peer and host name
  // checks are set on each connection). Built on first use; thread-safe. Throws
  // boost::system::system_error when OpenSSL cannot set it up.
  std::shared_ptr<boost::asio::ssl::context> default_tls_client();

 private:
  std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> default_tls_client_;
};

}  // namespace eventrouter::targets
