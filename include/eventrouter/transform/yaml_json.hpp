#pragma once
// Converts a YAML value to JSON text, for constants written in YAML (a target's `input`).

#include <string>

#include <yaml-cpp/yaml.h>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::transform {

// Mappings become objects (keys must be scalars), sequences arrays. A quoted scalar is a string;
// a plain scalar is null (~, null, or empty), a boolean (true/false), a number if it is spelled
// like a JSON number, and a string otherwise. The result is minified.
Expected<std::string, std::string> yaml_to_json(const YAML::Node& node);

}  // namespace eventrouter::transform
