#include "eventrouter/net/url.hpp"

#include <algorithm>
#include <charconv>

namespace eventrouter::net {

std::string HttpUrl::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::string HttpUrl::authority() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return name + ":" + std::to_string(port);
}

Expected<HttpUrl, std::string> parse_http_url(std::string_view text) {
  HttpUrl url;
  if (std::any_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7f;
      })) {
    return unexpected(
        std::string("url must be printable ASCII without spaces (percent-encode anything else)"));
  }
  std::string_view rest;
  if (text.starts_with("https://")) {
    url.tls = true;
    url.port = 443;
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    url.port = 80;
    rest = text.substr(7);
  } else {
    return unexpected(std::string("url must start with http:// or https://"));
  }
  if (rest.find('#') != std::string_view::npos) {
    return unexpected(std::string("url must not have a fragment (#...)"));
  }
  const std::size_t slash = std::min(rest.find('/'), rest.find('?'));
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.target = std::string(rest.substr(slash));
    if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  }
  if (authority.find('@') != std::string_view::npos) {
    return unexpected(std::string(
        "url must not contain user information (user:password@); send credentials in headers"));
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return unexpected(std::string("url has an unclosed '['"));
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected(std::string("url has junk after ']'"));
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return unexpected(std::string("url has no host"));
  if (!port_text.empty() || authority.ends_with(":")) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return unexpected(std::string("url has an invalid port (expected 1 to 65535)"));
    }
    url.port = static_cast<std::uint16_t>(value);
    url.default_port = false;
  }
  return url;
}

}  // namespace eventrouter::net
