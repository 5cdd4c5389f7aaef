#include "response_controls_reader.hpp"

#include "eventrouter/config/duration.hpp"

namespace eventrouter::rules {

using config::MapEntry;
using config::YamlFile;

namespace {

const std::vector<std::string> kDedupKeys = {"key", "window", "refire_when_changed"};
const std::vector<std::string> kStormKeys = {"count", "per", "digest_field"};
constexpr std::size_t kMaxPathLength = 256;

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '/' || c == ':' || c == '@';
}

std::optional<std::string> read_path(YamlFile& file, const yaml::Node& node,
                                     const std::string& name) {
  auto text = config::read_string(file, node, name);
  if (!text) return std::nullopt;
  if (auto problem = event_path_problem(*text)) {
    file.error(node, name + " is not a valid path: " + *problem);
    return std::nullopt;
  }
  return text;
}

// A list of 1 (or 0 when `min` is 0) to 5 paths.
std::optional<std::vector<std::string>> read_paths(YamlFile& file, const MapEntry& entry,
                                                   const std::string& name, std::size_t min) {
  const yaml::Node& list = entry.value;
  const std::string wanted = "a list of " + std::to_string(min) + " to " +
                             std::to_string(kMaxDedupPaths) + " paths such as [detail.id]";
  if (!list.is_sequence()) {
    file.error(list.is_null() ? entry.key_node : list, name + " must be " + wanted);
    return std::nullopt;
  }
  if (list.size() < min || list.size() > kMaxDedupPaths) {
    file.error(list, name + " has " + std::to_string(list.size()) + " paths; it must be " + wanted);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto path = read_path(file, list[i], name + "[" + std::to_string(i) + "]");
    if (path) {
      out.push_back(std::move(*path));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::chrono::milliseconds> read_window(YamlFile& file, const MapEntry& entry,
                                                     const std::string& name,
                                                     std::chrono::milliseconds min,
                                                     std::chrono::milliseconds max) {
  auto value = config::read_duration(file, entry.value, name);
  if (!value) return std::nullopt;
  if (*value < min || *value > max) {
    file.error(entry.value, name + " is " + config::format_duration(*value) + "; it must be from " +
                                config::format_duration(min) + " to " +
                                config::format_duration(max));
    return std::nullopt;
  }
  return value;
}

std::optional<DedupSettings> read_dedup(YamlFile& file, const MapEntry& dedup) {
  if (!dedup.value.is_map()) {
    file.error(dedup.value.is_null() ? dedup.key_node : dedup.value,
               "dedup must be a mapping such as {key: [detail.id], window: 6h}");
    return std::nullopt;
  }
  const auto errors_before = file.error_count();
  auto entries = config::read_mapping(file, dedup.value, "dedup", kDedupKeys);
  DedupSettings settings;
  if (const MapEntry* e = config::find_entry(entries, "key")) {
    if (auto paths = read_paths(file, *e, "dedup.key", 1)) settings.key = std::move(*paths);
  } else {
    file.error(dedup.key_node,
               "dedup has no key; give the paths that identify a duplicate, "
               "such as key: [detail.id]");
  }
  if (const MapEntry* e = config::find_entry(entries, "window")) {
    if (auto window = read_window(file, *e, "dedup.window", kMinDedupWindow, kMaxDedupWindow))
      settings.window = *window;
  } else {
    file.error(dedup.key_node,
               "dedup has no window; give how long a key suppresses its "
               "duplicates, such as window: 6h");
  }
  if (const MapEntry* e = config::find_entry(entries, "refire_when_changed")) {
    if (auto paths = read_paths(file, *e, "dedup.refire_when_changed", 0))
      settings.refire_when_changed = std::move(*paths);
  }
  if (file.error_count() != errors_before) return std::nullopt;
  return settings;
}

std::optional<StormSettings> read_storm(YamlFile& file, const MapEntry& storm) {
  if (!storm.value.is_map()) {
    file.error(storm.value.is_null() ? storm.key_node : storm.value,
               "max_invocations must be a mapping such as {count: 10, per: 1m}");
    return std::nullopt;
  }
  const auto errors_before = file.error_count();
  auto entries = config::read_mapping(file, storm.value, "max_invocations", kStormKeys);
  StormSettings settings;
  if (const MapEntry* e = config::find_entry(entries, "count")) {
    if (auto count =
            config::read_integer(file, e->value, "max_invocations.count", 1, kMaxStormCount))
      settings.count = static_cast<int>(*count);
  } else {
    file.error(storm.key_node,
               "max_invocations has no count; give the deliveries allowed per "
               "window, such as count: 10");
  }
  if (const MapEntry* e = config::find_entry(entries, "per")) {
    if (auto per = read_window(file, *e, "max_invocations.per", kMinStormWindow, kMaxStormWindow))
      settings.per = *per;
  } else {
    file.error(storm.key_node,
               "max_invocations has no per; give the window's length, such as per: 1m");
  }
  if (const MapEntry* e = config::find_entry(entries, "digest_field")) {
    if (auto path = read_path(file, e->value, "max_invocations.digest_field"))
      settings.digest_field = std::move(*path);
  }
  if (file.error_count() != errors_before) return std::nullopt;
  return settings;
}

}  // namespace

std::optional<std::string> event_path_problem(const std::string& path) {
  if (path.empty()) return "it is empty; give a dot-separated path such as detail.id";
  if (path.size() > kMaxPathLength) {
    return "it is " + std::to_string(path.size()) + " characters long; at most " +
           std::to_string(kMaxPathLength) + " are allowed";
  }
  std::size_t segment = 0;
  for (const char c : path) {
    if (c == '.') {
      if (segment == 0) return "'" + path + "' has an empty segment; write it as detail.id";
      segment = 0;
    } else if (!path_char(c)) {
      return "'" + path +
             "' has a character other than letters, digits, '_', '-', '/', ':', '@' and the "
             "dots between names";
    } else {
      ++segment;
    }
  }
  if (segment == 0) return "'" + path + "' has an empty segment; write it as detail.id";
  return std::nullopt;
}

ResponseControls read_response_controls(YamlFile& file, const std::vector<MapEntry>& entries) {
  ResponseControls controls;
  if (const MapEntry* e = config::find_entry(entries, "dedup"))
    controls.dedup = read_dedup(file, *e);
  if (const MapEntry* e = config::find_entry(entries, "max_invocations"))
    controls.max_invocations = read_storm(file, *e);
  return controls;
}

}  // namespace eventrouter::rules
