#pragma once
// http:// and https:// URLs, as a webhook target names its receiver.

#include <cstdint>
#include <string>
#include <string_view>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::net {

struct HttpUrl {
  bool tls = false;          // https
  std::string host;          // without brackets for IPv6 literals
  std::uint16_t port = 0;    // explicit or the scheme's default
  std::string target = "/";  // path and query, as sent in the request line
  bool default_port = true;  // whether the port was left out (for the Host header)

  // "host" or "host:port" (IPv6 literals bracketed), as the Host header wants it.
  std::string host_header() const;
  // "host:port", for messages (never the path or query, which may carry tokens).
  std::string authority() const;
};

// Parses an absolute http or https URL. Rejects user information ("user:pass@"), fragments and
// anything that is not printable ASCII; the error never quotes the URL.
Expected<HttpUrl, std::string> parse_http_url(std::string_view text);

}  // namespace eventrouter::net
