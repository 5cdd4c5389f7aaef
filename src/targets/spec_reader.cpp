#include "spec_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "eventrouter/config/duration.hpp"
#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/transform/payload_shaper.hpp"

namespace eventrouter::targets {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

std::optional<unsigned long long> whole_number(std::string_view text) {
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  return config::closest_match(word, candidates);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto parsed = config::parse_duration(text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const auto value = whole_number(text.substr(0, digits));
  if (!value) return std::nullopt;
  std::string unit(text.substr(digits));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::uint64_t multiplier = 1;
  if (unit.empty() || unit == "B") {
    multiplier = 1;
  } else if (unit == "K" || unit == "KB") {
    multiplier = 1000;
  } else if (unit == "M" || unit == "MB") {
    multiplier = 1000 * 1000;
  } else if (unit == "G" || unit == "GB") {
    multiplier = 1000 * 1000 * 1000;
  } else if (unit == "KIB") {
    multiplier = 1024;
  } else if (unit == "MIB") {
    multiplier = 1024 * 1024;
  } else if (unit == "GIB") {
    multiplier = 1024ULL * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  if (*value > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
  return *value * multiplier;
}

SpecReader::SpecReader(YAML::Node node, const TargetSpec& spec,
                       std::vector<config::Diagnostic>& problems, std::string prefix,
                       std::string path)
    : node_(std::move(node)),
      spec_(spec),
      problems_(problems),
      prefix_(std::move(prefix)),
      path_(std::move(path)),
      problems_at_start_(problems.size()) {}

void SpecReader::problem(const YAML::Node& at, const std::string& message) {
  config::Diagnostic diagnostic;
  diagnostic.file = spec_.position.file;
  diagnostic.line = spec_.position.line;
  diagnostic.column = spec_.position.column;
  if (at && !at.Mark().is_null()) {
    diagnostic.line = at.Mark().line + 1;
    diagnostic.column = at.Mark().column + 1;
  }
  diagnostic.message = prefix_ + message;
  problems_.push_back(std::move(diagnostic));
}

void SpecReader::check_keys(const std::vector<std::string>& own_keys, bool top_level) {
  if (!node_.IsMap()) return;
  std::vector<std::string> known = own_keys;
  if (top_level) {
    for (const auto& key : common_target_keys()) known.push_back(key);
    for (const auto& key : transform::PayloadShaper::keys()) known.push_back(key);
  }
  for (const auto& entry : node_) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string("?");
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key '" + path_ + key + "'";
    if (auto suggestion = did_you_mean(key, own_keys)) {
      message += " (did you mean '" + path_ + *suggestion + "'?)";
    } else {
      std::vector<std::string> names;
      for (const auto& own : own_keys) names.push_back(path_ + own);
      message += " (expected " + join(names) + ")";
    }
    problem(entry.first, message);
  }
}

bool SpecReader::has(std::string_view key) const {
  return node_.IsMap() && node_[std::string(key)].IsDefined() && !node_[std::string(key)].IsNull();
}

YAML::Node SpecReader::get(std::string_view key) const {
  if (!node_.IsMap()) return YAML::Node();
  return node_[std::string(key)];
}

std::optional<SpecReader> SpecReader::child(std::string_view key) {
  YAML::Node value = get(key);
  if (!value || value.IsNull()) {
    return SpecReader(YAML::Node(YAML::NodeType::Map), spec_, problems_, prefix_, name(key) + ".");
  }
  if (!value.IsMap()) {
    problem(value, name(key) + " must be a mapping");
    return std::nullopt;
  }
  return SpecReader(value, spec_, problems_, prefix_, name(key) + ".");
}

std::optional<std::string> SpecReader::string(std::string_view key, bool required) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) {
    if (required) problem(node_, name(key) + " is required");
    return std::nullopt;
  }
  if (!value.IsScalar()) {
    problem(value, name(key) + " must be a string");
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<std::chrono::milliseconds> SpecReader::duration(std::string_view key,
                                                              std::chrono::milliseconds fallback,
                                                              std::chrono::milliseconds min,
                                                              std::chrono::milliseconds max) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  std::optional<std::chrono::milliseconds> parsed;
  if (value.IsScalar()) parsed = parse_duration(value.Scalar());
  if (!parsed) {
    problem(value, name(key) + " must be a duration such as 500ms, 5s, 2m or 1h");
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    problem(value, name(key) + " must be between " + std::to_string(min.count()) + "ms and " +
                       std::to_string(max.count() / 1000) + "s");
    return std::nullopt;
  }
  return parsed;
}

std::optional<long long> SpecReader::integer(std::string_view key, long long fallback,
                                             long long min, long long max) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  long long parsed = 0;
  bool good = false;
  if (value.IsScalar()) {
    const std::string& text = value.Scalar();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    good = ec == std::errc() && end == text.data() + text.size() && !text.empty();
  }
  if (!good || parsed < min || parsed > max) {
    problem(value, name(key) + " must be a whole number from " + std::to_string(min) + " to " +
                       std::to_string(max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> SpecReader::number(std::string_view key, double fallback, double min,
                                         double max) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  double parsed = 0;
  bool good = false;
  if (value.IsScalar()) {
    const std::string& text = value.Scalar();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    good = ec == std::errc() && end == text.data() + text.size() && !text.empty();
  }
  if (!good || !(parsed >= min && parsed <= max)) {
    problem(value, fmt::format("{} must be a number from {} to {}", name(key), min, max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<bool> SpecReader::boolean(std::string_view key, bool fallback) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  if (value.IsScalar()) {
    const std::string& text = value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  problem(value, name(key) + " must be true or false");
  return std::nullopt;
}

std::optional<std::uint64_t> SpecReader::size(std::string_view key, std::uint64_t fallback,
                                              std::uint64_t min, std::uint64_t max) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  std::optional<std::uint64_t> parsed;
  if (value.IsScalar()) parsed = parse_size(value.Scalar());
  if (!parsed || *parsed < min || *parsed > max) {
    problem(value, name(key) + " must be a size from " + std::to_string(min) + " to " +
                       std::to_string(max) + " bytes, such as 65536, 64KiB or 100MiB");
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::string> SpecReader::choice(std::string_view key, std::string fallback,
                                              const std::vector<std::string>& allowed) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return fallback;
  if (value.IsScalar() &&
      std::find(allowed.begin(), allowed.end(), value.Scalar()) != allowed.end()) {
    return value.Scalar();
  }
  std::string message = name(key) + " must be " + join(allowed);
  if (value.IsScalar()) {
    message += " (got '" + value.Scalar() + "'";
    if (auto suggestion = did_you_mean(value.Scalar(), allowed)) {
      message += "; did you mean '" + *suggestion + "'?";
    }
    message += ")";
  }
  problem(value, message);
  return std::nullopt;
}

std::optional<std::vector<std::string>> SpecReader::string_list(std::string_view key,
                                                                bool required) {
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) {
    if (required) problem(node_, name(key) + " is required");
    return std::nullopt;
  }
  if (!value.IsSequence()) {
    problem(value, name(key) + " must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.IsScalar()) {
      problem(item, name(key) + " must contain only strings");
      return std::nullopt;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> SpecReader::string_map(
    std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const YAML::Node value = get(key);
  if (!value || value.IsNull()) return out;
  if (!value.IsMap()) {
    problem(value, name(key) + " must be a mapping of names to strings");
    return std::nullopt;
  }
  for (const auto& entry : value) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      problem(entry.first, name(key) + " must map names to strings");
      return std::nullopt;
    }
    out.emplace_back(entry.first.Scalar(), entry.second.Scalar());
  }
  return out;
}

}  // namespace eventrouter::targets
