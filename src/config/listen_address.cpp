#include <arpa/inet.h>

#include <charconv>

#include "eventrouter/config/config.hpp"

namespace eventrouter::config {

namespace {

constexpr std::string_view kForm =
    "write HOST:PORT, e.g. 127.0.0.1:8088, [::1]:8088 or localhost:8088";

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

bool looks_like_ipv4(std::string_view host) {
  return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

Expected<ListenAddress, std::string> parse_listen_address(std::string_view text) {
  const std::string shown = "'" + std::string(text) + "'";
  ListenAddress address;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return unexpected(shown + " has '[' without ']'; " + std::string(kForm));
    }
    address.host = std::string(text.substr(1, close - 1));
    in6_addr ip6{};
    if (inet_pton(AF_INET6, address.host.c_str(), &ip6) != 1) {
      return unexpected("'" + address.host + "' in " + shown + " is not an IPv6 address");
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return unexpected(shown + " has no port; " + std::string(kForm));
    }
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return unexpected(shown + " has no port; " + std::string(kForm));
    }
    if (text.find(':') != colon) {
      return unexpected(shown + ": an IPv6 address needs brackets, e.g. [::1]:8088");
    }
    address.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (address.host.empty()) {
      return unexpected(shown +
                        " has no host; use 127.0.0.1 for loopback only, or 0.0.0.0 to "
                        "listen on every interface");
    }
    if (looks_like_ipv4(address.host)) {
      in_addr ip4{};
      if (inet_pton(AF_INET, address.host.c_str(), &ip4) != 1) {
        return unexpected("'" + address.host + "' in " + shown + " is not an IPv4 address");
      }
    } else if (!valid_hostname(address.host)) {
      return unexpected("'" + address.host + "' in " + shown + " is not a valid host name");
    }
  }
  if (port_text.empty()) return unexpected(shown + " has no port; " + std::string(kForm));
  unsigned long port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec == std::errc::invalid_argument || ptr != port_text.data() + port_text.size()) {
    return unexpected("port '" + std::string(port_text) + "' in " + shown +
                      " is not a number; use 0 to 65535 (0 lets the system pick)");
  }
  if (ec == std::errc::result_out_of_range || port > 65535) {
    return unexpected("port " + std::string(port_text) + " in " + shown +
                      " is out of range; use 0 to 65535 (0 lets the system pick)");
  }
  address.port = static_cast<std::uint16_t>(port);
  return address;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr ip4{};
  const std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &ip4) == 1) return (ntohl(ip4.s_addr) >> 24) == 127;
  in6_addr ip6{};
  return inet_pton(AF_INET6, text.c_str(), &ip6) == 1 && IN6_IS_ADDR_LOOPBACK(&ip6);
}

std::string format_listen_address(const ListenAddress& address) {
  if (address.host.find(':') != std::string::npos) {
    return "[" + address.host + "]:" + std::to_string(address.port);
  }
  return address.host + ":" + std::to_string(address.port);
}

}  // namespace eventrouter::config
