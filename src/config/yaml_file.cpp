#include "eventrouter/config/yaml_file.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "eventrouter/config/duration.hpp"
#include "eventrouter/yaml/parse.hpp"

namespace eventrouter::config {

namespace {

// The shortest text that reads back as `value` (1000, 0.5), as a user would write it.
std::string shortest(double value) {
  char text[400];  // fixed notation: up to 309 digits before the point
  const auto result = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return std::string(text, result.ptr);
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string join_quoted(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string type_name(const yaml::Node& node) {
  switch (node.type()) {
    case yaml::NodeType::kMap:
      return "a mapping";
    case yaml::NodeType::kSequence:
      return "a list";
    case yaml::NodeType::kNull:
      return "empty";
    case yaml::NodeType::kScalar:
      return "a scalar";
    case yaml::NodeType::kUndefined:
      break;
  }
  return "missing";
}

}  // namespace

void YamlFile::error(const yaml::Mark& mark, std::string message) {
  // A value whose reference could not be resolved was reported once; whatever later checks
  // say about its unresolved text would only be noise.
  if (failed_marks_.count({mark.line, mark.column}) > 0) return;
  Diagnostic d;
  d.file = file_;
  // Marks are 0-based; a null mark (-1) means "no position".
  if (mark.line >= 0) {
    d.line = mark.line + 1;
    d.column = mark.column + 1;
  }
  d.message = std::move(message);
  out_->push_back(std::move(d));
  ++errors_;
}

void YamlFile::error(const yaml::Node& node, std::string message) {
  const yaml::Mark mark = node.mark();
  if (node.is_null()) {
    auto it = empty_value_keys_.find({mark.line, mark.column});
    if (it != empty_value_keys_.end()) return error(it->second, std::move(message));
  }
  error(mark, std::move(message));
}

void YamlFile::note_empty_value(const yaml::Node& key, const yaml::Node& value) {
  if (value.is_null()) empty_value_keys_[{value.mark().line, value.mark().column}] = key.mark();
}

void YamlFile::report(Diagnostic diagnostic) {
  if (failed_marks_.count({diagnostic.line - 1, diagnostic.column - 1}) > 0) return;
  out_->push_back(std::move(diagnostic));
  ++errors_;
}

void YamlFile::error_at_file(std::string message) {
  error(yaml::Mark{}, std::move(message));
}

void YamlFile::mark_secret(const yaml::Node& node) {
  secret_marks_.emplace(node.mark().line, node.mark().column);
}

void YamlFile::mark_failed(const yaml::Node& node) {
  failed_marks_.emplace(node.mark().line, node.mark().column);
}

bool YamlFile::is_secret(const yaml::Node& node) const {
  return secret_marks_.count({node.mark().line, node.mark().column}) > 0;
}

std::string YamlFile::quoted(const yaml::Node& scalar) const {
  if (is_secret(scalar)) return "the referenced secret";
  if (!scalar.is_scalar()) return type_name(scalar);
  return "'" + scalar.scalar() + "'";
}

std::optional<yaml::Node> parse_yaml_text(YamlFile& file, const std::string& text) {
  auto docs = yaml::parse_documents(text);
  if (!docs) {
    file.error(docs.error().mark, "YAML syntax error: " + docs.error().message);
    return std::nullopt;
  }
  if (docs->empty()) return yaml::Node(yaml::NodeType::kNull);
  if (docs->size() > 1) {
    file.error((*docs)[1].mark(),
               "the file holds more than one YAML document; remove the '---' separator and "
               "keep one document");
    return std::nullopt;
  }
  return docs->front();
}

std::optional<yaml::Node> parse_yaml_file(YamlFile& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file.path(), ec)) {
    file.error_at_file("cannot read file: it is a directory");
    return std::nullopt;
  }
  std::ifstream in(file.path(), std::ios::binary);
  if (!in) {
    file.error_at_file(std::string("cannot open file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    file.error_at_file(std::string("cannot read file: ") + std::strerror(errno));
    return std::nullopt;
  }
  return parse_yaml_text(file, text.str());
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
  // neighbouring letters each cost one ("wran" is one edit from "warn").
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  // A typo is a small edit relative to the word's length: one edit for short words, about a
  // third of the letters for long ones.
  const std::size_t limit = std::max<std::size_t>(1, std::min(word.size(), std::size_t{12}) / 3);
  std::optional<std::string> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d <= limit && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  auto closest = closest_match(word, candidates);
  if (!closest) return std::nullopt;
  return "did you mean '" + *closest + "'?";
}

std::string unknown_key_message(std::string_view key, std::string_view what,
                                const std::vector<std::string>& allowed) {
  std::string message = "unknown key '" + std::string(key) + "' in " + std::string(what);
  if (auto suggestion = did_you_mean(key, allowed)) {
    message += "; " + *suggestion;
  } else if (allowed.empty()) {
    message += "; no keys are allowed here";
  } else {
    message += "; expected one of: " + join_quoted(allowed);
  }
  return message;
}

std::vector<MapEntry> read_mapping(YamlFile& file, const yaml::Node& node, std::string_view what,
                                   const std::vector<std::string>& allowed) {
  std::vector<MapEntry> entries;
  if (node.is_null() || !node.is_defined()) return entries;
  if (!node.is_map()) {
    file.error(node,
               std::string(what) + " must be a mapping of keys to values, not " + type_name(node));
    return entries;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const yaml::Node key = it->first;  // a copy: `it->` returns a temporary proxy
    if (!key.is_scalar()) {
      file.error(key,
                 "keys in " + std::string(what) + " must be plain words, not " + type_name(key));
      continue;
    }
    const std::string& name = key.scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      file.error(key, unknown_key_message(name, what, allowed));
      continue;
    }
    if (const MapEntry* first = find_entry(entries, name)) {
      file.error(key, "duplicate key '" + name + "' in " + std::string(what) +
                          " (first given at line " +
                          std::to_string(first->key_node.mark().line + 1) + "); keep only one");
      continue;
    }
    file.note_empty_value(key, it->second);
    entries.push_back(MapEntry{name, key, it->second});
  }
  return entries;
}

const MapEntry* find_entry(const std::vector<MapEntry>& entries, std::string_view key) {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

void sort_diagnostics(std::vector<Diagnostic>::iterator begin,
                      std::vector<Diagnostic>::iterator end) {
  std::stable_sort(begin, end, [](const Diagnostic& a, const Diagnostic& b) {
    if (a.file != b.file) return a.file < b.file;
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
}

bool is_plain_scalar(const yaml::Node& node) {
  return node.is_scalar() && node.tag() == yaml::kPlainTag;
}

std::optional<std::string> read_string(YamlFile& file, const yaml::Node& node,
                                       std::string_view name) {
  if (!node.is_scalar()) {
    file.error(node, std::string(name) + " must be a string, not " + type_name(node));
    return std::nullopt;
  }
  return node.scalar();
}

std::string choice_message(std::string_view name, const std::vector<std::string>& choices,
                           std::string_view shown, std::optional<std::string_view> suggest_for) {
  std::string message =
      std::string(name) + " must be one of " + join_quoted(choices) + ", not " + std::string(shown);
  if (suggest_for) {
    if (auto suggestion = did_you_mean(*suggest_for, choices)) message += "; " + *suggestion;
  }
  return message;
}

std::string whole_number_range(std::int64_t min, std::int64_t max) {
  return min == 1 && max == std::numeric_limits<std::int64_t>::max()
             ? std::string("a positive whole number")
             : "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || ec != std::errc() || end != text.data() + digits) return std::nullopt;
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
  if (value > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
  return value * multiplier;
}

std::optional<bool> read_bool(YamlFile& file, const yaml::Node& node, std::string_view name) {
  if (node.is_scalar()) {
    if (auto value = parse_bool(node.scalar())) return value;
  }
  file.error(node, std::string(name) + " must be true or false, not " + file.quoted(node));
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(YamlFile& file, const yaml::Node& node,
                                         std::string_view name, std::int64_t min,
                                         std::int64_t max) {
  const std::string range = whole_number_range(min, max);
  if (!node.is_scalar()) {
    file.error(node, std::string(name) + " must be " + range + ", not " + type_name(node));
    return std::nullopt;
  }
  const std::string& s = node.scalar();
  std::int64_t value = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (!s.empty() && s[0] == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != end) {
    file.error(node, std::string(name) + " must be " + range + ", not " + file.quoted(node));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    file.error(node,
               std::string(name) + " is out of range: " + file.quoted(node) + " is not " + range);
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> read_choice(YamlFile& file, const yaml::Node& node,
                                       std::string_view name,
                                       const std::vector<std::string>& choices) {
  if (node.is_scalar() &&
      std::find(choices.begin(), choices.end(), node.scalar()) != choices.end()) {
    return node.scalar();
  }
  const bool comparable = node.is_scalar() && !file.is_secret(node);
  file.error(node, choice_message(
                       name, choices, file.quoted(node),
                       comparable ? std::optional<std::string_view>(node.scalar()) : std::nullopt));
  return std::nullopt;
}

MappingReader::MappingReader(yaml::Node node, Position fallback, std::vector<Diagnostic>& problems,
                             std::string what, std::string path)
    : node_(std::move(node)),
      fallback_(std::move(fallback)),
      problems_(problems),
      what_(std::move(what)),
      path_(std::move(path)),
      problems_at_start_(problems.size()) {}

void MappingReader::record(const yaml::Node& at, std::string message) {
  Diagnostic diagnostic;
  diagnostic.file = fallback_.file;
  diagnostic.line = fallback_.line;
  diagnostic.column = fallback_.column;
  if (at && !at.mark().is_null()) {
    diagnostic.line = at.mark().line + 1;
    diagnostic.column = at.mark().column + 1;
  }
  diagnostic.message = std::move(message);
  problems_.push_back(std::move(diagnostic));
}

void MappingReader::problem(const yaml::Node& at, const std::string& message) {
  record(at, what_.empty() ? message : what_ + ": " + message);
}

void MappingReader::check_keys(const std::vector<std::string>& own_keys,
                               const std::vector<std::string>& also_allowed) {
  if (!node_.is_map()) return;
  std::vector<std::string> named;  // as messages show them: with the path of nested keys
  for (const auto& own : own_keys) named.push_back(path_ + own);
  for (const auto& entry : node_) {
    const std::string key = entry.first.is_scalar() ? entry.first.scalar() : std::string("?");
    if (std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end() ||
        std::find(also_allowed.begin(), also_allowed.end(), key) != also_allowed.end()) {
      continue;
    }
    record(entry.first, unknown_key_message(path_ + key, what_, named));
  }
}

bool MappingReader::has(std::string_view key) const {
  return node_.is_map() && node_[std::string(key)].is_defined() &&
         !node_[std::string(key)].is_null();
}

yaml::Node MappingReader::get(std::string_view key) const {
  if (!node_.is_map()) return yaml::Node();
  return node_[std::string(key)];
}

std::optional<MappingReader> MappingReader::child(std::string_view key) {
  yaml::Node value = get(key);
  if (!value || value.is_null()) {
    // One empty mapping for all: a reader never changes its mapping.
    static const yaml::Node empty(yaml::NodeType::kMap);
    return MappingReader(empty, fallback_, problems_, what_, name(key) + ".");
  }
  if (!value.is_map()) {
    problem(value, name(key) + " must be a mapping");
    return std::nullopt;
  }
  return MappingReader(value, fallback_, problems_, what_, name(key) + ".");
}

std::optional<std::string> MappingReader::string(std::string_view key, bool required) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) {
    if (required) problem(node_, name(key) + " is required");
    return std::nullopt;
  }
  if (!value.is_scalar()) {
    problem(value, name(key) + " must be a string");
    return std::nullopt;
  }
  return value.scalar();
}

std::optional<std::chrono::milliseconds> MappingReader::duration(std::string_view key,
                                                                 std::chrono::milliseconds fallback,
                                                                 std::chrono::milliseconds min,
                                                                 std::chrono::milliseconds max) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  // Worded as read_duration words it for eventrouter.yaml.
  if (!value.is_scalar()) {
    problem(value, name(key) + " must be a duration such as 30s, not a " +
                       (value.is_map() ? "mapping" : "list"));
    return std::nullopt;
  }
  auto parsed = parse_duration(value.scalar());
  if (!parsed) {
    problem(value, name(key) + ": " + parsed.error());
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    problem(value, name(key) + " must be between " + std::to_string(min.count()) + "ms and " +
                       std::to_string(max.count() / 1000) + "s");
    return std::nullopt;
  }
  return *parsed;
}

std::optional<long long> MappingReader::integer(std::string_view key, long long fallback,
                                                long long min, long long max) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  long long parsed = 0;
  bool good = false;
  if (value.is_scalar()) {
    const std::string& text = value.scalar();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    good = ec == std::errc() && end == text.data() + text.size() && !text.empty();
  }
  if (!good || parsed < min || parsed > max) {
    problem(value, name(key) + " must be " + whole_number_range(min, max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> MappingReader::number(std::string_view key, double fallback, double min,
                                            double max) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  double parsed = 0;
  bool good = false;
  if (value.is_scalar()) {
    const std::string& text = value.scalar();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    good = ec == std::errc() && end == text.data() + text.size() && !text.empty();
  }
  if (!good || !(parsed >= min && parsed <= max)) {
    problem(value, name(key) + " must be a number from " + shortest(min) + " to " + shortest(max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<bool> MappingReader::boolean(std::string_view key, bool fallback) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  if (value.is_scalar()) {
    if (auto parsed = parse_bool(value.scalar())) return parsed;
  }
  problem(value, name(key) + " must be true or false");
  return std::nullopt;
}

std::optional<std::uint64_t> MappingReader::size(std::string_view key, std::uint64_t fallback,
                                                 std::uint64_t min, std::uint64_t max) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  std::optional<std::uint64_t> parsed;
  if (value.is_scalar()) parsed = parse_size(value.scalar());
  if (!parsed || *parsed < min || *parsed > max) {
    problem(value, name(key) + " must be a size from " + std::to_string(min) + " to " +
                       std::to_string(max) + " bytes, such as 65536, 64KiB or 100MiB");
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::string> MappingReader::choice(std::string_view key, std::string fallback,
                                                 const std::vector<std::string>& allowed) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return fallback;
  if (value.is_scalar() &&
      std::find(allowed.begin(), allowed.end(), value.scalar()) != allowed.end()) {
    return value.scalar();
  }
  // A word that is not one of a few fixed words is shown: it is a typo, not a secret.
  const bool scalar = value.is_scalar();
  problem(value,
          choice_message(name(key), allowed, scalar ? "'" + value.scalar() + "'" : type_name(value),
                         scalar ? std::optional<std::string_view>(value.scalar()) : std::nullopt));
  return std::nullopt;
}

std::optional<std::vector<std::string>> MappingReader::string_list(std::string_view key,
                                                                   bool required) {
  const yaml::Node value = get(key);
  if (!value || value.is_null()) {
    if (required) problem(node_, name(key) + " is required");
    return std::nullopt;
  }
  if (!value.is_sequence()) {
    problem(value, name(key) + " must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_scalar()) {
      problem(item, name(key) + " must contain only strings");
      return std::nullopt;
    }
    out.push_back(item.scalar());
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> MappingReader::string_map(
    std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const yaml::Node value = get(key);
  if (!value || value.is_null()) return out;
  if (!value.is_map()) {
    problem(value, name(key) + " must be a mapping of names to strings");
    return std::nullopt;
  }
  for (const auto& entry : value) {
    if (!entry.first.is_scalar() || !entry.second.is_scalar()) {
      problem(entry.first, name(key) + " must map names to strings");
      return std::nullopt;
    }
    out.emplace_back(entry.first.scalar(), entry.second.scalar());
  }
  return out;
}

}  // namespace eventrouter::config
