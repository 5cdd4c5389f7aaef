#pragma once
// Durations as written in configuration: a whole number and a unit, e.g. "500ms", "30s",
// "5m", "1h", "7d".

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::config {

// Parses "<digits><unit>" with unit ms, s, m, h or d. The error message says what is wrong and
// shows valid examples.
Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

// Reads a duration from a YAML scalar, reporting a diagnostic naming `name` when it is not one.
std::optional<std::chrono::milliseconds> read_duration(YamlFile& file, const yaml::Node& node,
                                                       std::string_view name);

// "30s", "500ms", "5m", "1h": the shortest exact spelling, for display.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace eventrouter::config
