// Where and how the admin commands connect: the base URL from `listen`, TLS files and the token,
// resolved in the documented order.
#include "eventrouter/app/admin_client.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using eventrouter::app::AdminResponse;
using eventrouter::app::ClientOptions;
using eventrouter::app::daemon_base_url;
using eventrouter::app::describe_error_response;
using eventrouter::app::make_endpoint;
using eventrouter::config::Config;
using eventrouter::config::ListenAddress;

TEST(DaemonBaseUrl, UsesTheListenAddressWithWildcardsOnLoopback) {
  EXPECT_EQ(*daemon_base_url(ListenAddress{"127.0.0.1", 8088}, false), "http://127.0.0.1:8088");
  EXPECT_EQ(*daemon_base_url(ListenAddress{"0.0.0.0", 80}, false), "http://127.0.0.1:80");
  EXPECT_EQ(*daemon_base_url(ListenAddress{"::", 8443}, true), "https://[::1]:8443");
  EXPECT_EQ(*daemon_base_url(ListenAddress{"::1", 8088}, false), "http://[::1]:8088");
  EXPECT_EQ(*daemon_base_url(ListenAddress{"10.1.2.3", 9000}, true), "https://10.1.2.3:9000");
  EXPECT_EQ(*daemon_base_url(ListenAddress{"localhost", 8088}, false), "http://localhost:8088");
}

TEST(DaemonBaseUrl, PortZeroCannotBeReached) {
  auto url = daemon_base_url(ListenAddress{"127.0.0.1", 0}, false);
  ASSERT_FALSE(url);
  EXPECT_NE(url.error().find("port 0"), std::string::npos) << url.error();
}

class EndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("er-admin-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "tokens") << "\n# operators\n  first-token  \nsecond-token\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(EndpointTest, TokenComesFromTheOptionThenTheEnvironmentThenTheTokensFile) {
  Config config;
  config.tokens_file = dir_ / "tokens";
  ClientOptions options;
  EXPECT_EQ(make_endpoint(config, options, nullptr, std::nullopt)->token, "first-token");
  EXPECT_EQ(make_endpoint(config, options, "", std::nullopt)->token, "first-token");
  EXPECT_EQ(make_endpoint(config, options, "from-env", std::nullopt)->token, "from-env");
  options.token = "from-option";
  EXPECT_EQ(make_endpoint(config, options, "from-env", std::nullopt)->token, "from-option");

  Config unreadable;
  unreadable.tokens_file = dir_ / "missing";
  EXPECT_EQ(make_endpoint(unreadable, {}, nullptr, std::nullopt)->token, "");
  EXPECT_EQ(make_endpoint(Config{}, {}, nullptr, std::nullopt)->token, "");
}

TEST_F(EndpointTest, TheDefaultTokenIsTheFirstPlaintextAdminToken) {
  std::ofstream(dir_ / "scoped") << "# scoped\ningest-only role=ingest\nreader role=read\n"
                                 << "sha256:" << std::string(64, 'a') << "\n"
                                 << "the-admin role=admin\nlater-admin\n";
  Config config;
  config.tokens_file = dir_ / "scoped";
  EXPECT_EQ(make_endpoint(config, {}, nullptr, std::nullopt)->token, "the-admin");
}

TEST_F(EndpointTest, AFileWithOnlyHashedAdminTokensSaysToPassOne) {
  std::ofstream(dir_ / "hashed") << "sha256:" << std::string(64, 'b')
                                 << "\nplain-ingest role=ingest\n";
  Config config;
  config.tokens_file = dir_ / "hashed";
  const auto endpoint = make_endpoint(config, {}, nullptr, std::nullopt);
  ASSERT_FALSE(endpoint);
  EXPECT_NE(endpoint.error().find("holds no plaintext token with role admin"), std::string::npos)
      << endpoint.error();
  EXPECT_NE(endpoint.error().find("pass --token or set EVENTROUTER_TOKEN"), std::string::npos)
      << endpoint.error();
  // --token and EVENTROUTER_TOKEN still work, without reading the file's tokens.
  EXPECT_EQ(make_endpoint(config, {}, "from-env", std::nullopt)->token, "from-env");
}

TEST_F(EndpointTest, TlsVerifiesWithTheCaFileElseTheServerCertificate) {
  Config config;
  config.listen = ListenAddress{"0.0.0.0", 8443};
  config.tls = eventrouter::config::TlsConfig{dir_ / "server.pem", dir_ / "server.key", {}};
  auto endpoint = make_endpoint(config, {}, nullptr, std::nullopt);
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->base_url, "https://127.0.0.1:8443");
  EXPECT_EQ(endpoint->ca_file, dir_ / "server.pem");

  ClientOptions options;
  options.ca_file = "ca.pem";
  options.cert_file = "client.pem";
  options.key_file = "client.key";
  endpoint = make_endpoint(config, options, nullptr, std::nullopt);
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->ca_file, "ca.pem");
  EXPECT_EQ(endpoint->cert_file, "client.pem");
  EXPECT_EQ(endpoint->key_file, "client.key");
}

TEST_F(EndpointTest, RejectsTlsOptionsWithoutTlsAndAKeyWithoutCertificate) {
  ClientOptions ca;
  ca.ca_file = "ca.pem";
  auto plain = make_endpoint(Config{}, ca, nullptr, std::nullopt);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().find("no tls: section"), std::string::npos) << plain.error();

  Config tls;
  tls.tls = eventrouter::config::TlsConfig{"s.pem", "s.key", {}};
  ClientOptions key;
  key.key_file = "k.pem";
  auto lonely_key = make_endpoint(tls, key, nullptr, std::nullopt);
  ASSERT_FALSE(lonely_key);
  EXPECT_EQ(lonely_key.error(), "--key needs --cert (the client certificate it belongs to)");
}

TEST_F(EndpointTest, TimeoutIsTheOptionElseTheCommandsDefault) {
  using std::chrono::milliseconds;
  EXPECT_FALSE(make_endpoint(Config{}, {}, nullptr, std::nullopt)->timeout);
  EXPECT_EQ(make_endpoint(Config{}, {}, nullptr, milliseconds(120000))->timeout,
            milliseconds(120000));
  ClientOptions options;
  options.timeout = milliseconds(2500);
  EXPECT_EQ(make_endpoint(Config{}, options, nullptr, milliseconds(120000))->timeout,
            milliseconds(2500));
}

TEST(DescribeErrorResponse, ShowsTheDaemonsErrorOrTheRawBody) {
  EXPECT_EQ(describe_error_response(
                AdminResponse{400, R"({"error":{"code":"InvalidReplay","message":"bad window"}})"}),
            "InvalidReplay: bad window (HTTP 400)");
  EXPECT_EQ(describe_error_response(AdminResponse{502, "<html>\nBad Gateway</html>"}),
            "<html> Bad Gateway</html> (HTTP 502)");
  const auto unauthorized = describe_error_response(
      AdminResponse{401, R"({"error":{"code":"Unauthorized","message":"token required"}})"});
  EXPECT_EQ(unauthorized.rfind("Unauthorized: token required (HTTP 401); give --token", 0), 0u)
      << unauthorized;
  const auto no_route = describe_error_response(
      AdminResponse{404, R"({"error":{"code":"NotFound","message":"no such path"}})"});
  EXPECT_NE(no_route.find("is the daemon older than this command?"), std::string::npos);
  EXPECT_EQ(describe_error_response(AdminResponse{503, ""}), "no error details (HTTP 503)");
  const auto denied = describe_error_response(AdminResponse{
      403, R"({"__type":"AccessDeniedException","message":"this token may not start replays: )"
           R"(it needs role admin"})"});
  EXPECT_EQ(denied,
            "AccessDeniedException: this token may not start replays: it needs role admin (HTTP "
            "403); pass --token (or set EVENTROUTER_TOKEN) with a token that has role admin");
}

}  // namespace
