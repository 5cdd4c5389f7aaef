#include "query_string.hpp"

#include <charconv>
#include <cstdint>

#include "eventrouter/net/hmac.hpp"

namespace eventrouter::app {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = net::hex_digit_value(text[i + 1]), low = net::hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  const auto question = target.find('?');
  return question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

Expected<std::vector<std::pair<std::string, std::string>>, std::string> parse_query(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key(pair.substr(0, eq).substr(0, 64));
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value) return unexpected("the value of " + key + " has a malformed %-escape");
    out.emplace_back(std::move(key), std::move(*value));
  }
  return out;
}

Expected<std::size_t, std::string> parse_limit(std::string_view value, std::size_t max) {
  std::int64_t number = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || number < 1 ||
      static_cast<std::uint64_t>(number) > max) {
    return unexpected("limit must be a whole number from 1 to " + std::to_string(max));
  }
  return static_cast<std::size_t>(number);
}

}  // namespace eventrouter::app
