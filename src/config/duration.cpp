#include "eventrouter/config/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace eventrouter::config {

namespace {

constexpr std::string_view kExamples =
    "use a whole number and a unit (ms, s, m, h or d), e.g. 500ms, 30s, 5m, 1h, 7d";

}  // namespace

Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  const std::string shown = "'" + std::string(text) + "'";
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    return unexpected(shown + " is not a duration: " + std::string(kExamples));
  }
  const std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 60 * 60 * 1000;
  } else if (unit == "d") {
    scale = 24 * 60 * 60 * 1000;
  } else if (unit.empty()) {
    return unexpected(shown + " has no unit: " + std::string(kExamples));
  } else {
    return unexpected(shown + " is not a duration: unknown unit '" + std::string(unit) + "'; " +
                      std::string(kExamples));
  }
  std::int64_t count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, count);
  (void)ptr;
  // A year is far beyond any sensible timeout; the bound keeps the arithmetic exact.
  constexpr std::int64_t kMaxMs = std::int64_t{366} * 24 * 60 * 60 * 1000;
  if (ec != std::errc{} || count > kMaxMs / scale) {
    return unexpected(shown + " is too long a duration (at most 366 days)");
  }
  return std::chrono::milliseconds(count * scale);
}

std::optional<std::chrono::milliseconds> read_duration(YamlFile& file, const yaml::Node& node,
                                                       std::string_view name) {
  if (!node.is_scalar()) {
    file.error(node, std::string(name) + " must be a duration such as 30s, not a " +
                         (node.is_map()        ? "mapping"
                          : node.is_sequence() ? "list"
                                               : "missing value"));
    return std::nullopt;
  }
  auto parsed = parse_duration(node.scalar());
  if (!parsed) {
    file.error(node, std::string(name) + ": " +
                         (file.is_secret(node) ? std::string("the referenced secret is not a "
                                                             "duration such as 30s")
                                               : parsed.error()));
    return std::nullopt;
  }
  return *parsed;
}

std::string format_duration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms != 0 && ms % (24 * 60 * 60 * 1000) == 0)
    return std::to_string(ms / (24 * 60 * 60 * 1000)) + "d";
  if (ms != 0 && ms % (60 * 60 * 1000) == 0) return std::to_string(ms / (60 * 60 * 1000)) + "h";
  if (ms != 0 && ms % (60 * 1000) == 0) return std::to_string(ms / (60 * 1000)) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace eventrouter::config
