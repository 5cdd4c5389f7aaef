// The webhook URL parser (src/net/url.cpp).

#include "eventrouter/net/url.hpp"

#include <gtest/gtest.h>

namespace eventrouter::net {
namespace {

TEST(HttpUrl, ParsesSchemesHostsPortsAndTargets) {
  auto url = parse_http_url("https://hooks.example.com/a/b?c=d");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/a/b?c=d");
  EXPECT_EQ(url->host_header(), "hooks.example.com");
  EXPECT_EQ(url->authority(), "hooks.example.com:443");

  url = parse_http_url("http://127.0.0.1:8080");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->host_header(), "127.0.0.1:8080");

  url = parse_http_url("http://[::1]:9000?x=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->target, "/?x=1");
  EXPECT_EQ(url->host_header(), "[::1]:9000");
}

TEST(HttpUrl, RejectsWhatItCannotSendAndNeverQuotesTheUrl) {
  for (const char* bad :
       {"ftp://x.example/", "hooks.example.com/x", "http://", "http://:80/", "http://x:0/",
        "http://x:65536/", "http://x:8a/", "https://user:TOKEN@x.example/", "http://x/#TOKEN",
        "http://x/a b", "http://[::1/"}) {
    auto url = parse_http_url(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().find("TOKEN"), std::string::npos);
  }
}

}  // namespace
}  // namespace eventrouter::net
