#pragma once
// Converting YAML to JSON text faithfully, for event patterns (and constant target inputs)
// written as YAML: quoted scalars stay strings, plain scalars get YAML 1.2 core types
// (7 is a number, "7" a string, true/false booleans, null/~/empty null).

#include <optional>
#include <string>
#include <string_view>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::config {

// Compact JSON for `node`. Problems (a value JSON cannot hold such as .inf, a non-scalar or
// duplicate mapping key) are reported into `file` at their position; returns nothing then.
std::optional<std::string> yaml_to_json(YamlFile& file, const yaml::Node& node);

}  // namespace eventrouter::config
