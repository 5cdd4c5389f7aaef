// The clients targets share: built once, then the same for every target of the daemon.

#include "eventrouter/targets/shared_clients.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>

#include <thread>
#include <vector>

namespace eventrouter::targets {
namespace {

TEST(SharedClients, OneDefaultTlsContextForEveryCaller) {
  SharedClients clients;
  std::vector<std::shared_ptr<boost::asio::ssl::context>> seen(8);
  std::vector<std::thread> threads;
  for (auto& slot : seen)
    threads.emplace_back([&clients, &slot] { slot = clients.default_tls_client(); });
  for (auto& thread : threads) thread.join();
  for (const auto& context : seen) EXPECT_EQ(context, seen.front());
  // Never older than TLS 1.2, whatever the system's OpenSSL defaults say.
  EXPECT_EQ(SSL_CTX_get_min_proto_version(seen.front()->native_handle()), TLS1_2_VERSION);
}

TEST(SharedClients, EachSetOfClientsIsItsOwn) {
  SharedClients first, second;
  EXPECT_NE(first.default_tls_client(), second.default_tls_client());
}

}  // namespace
}  // namespace eventrouter::targets
