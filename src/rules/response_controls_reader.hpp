#pragma once
// Reads a rule's `dedup` and `max_invocations` keys (see rules/response_controls.hpp), with one
// diagnostic per problem at the offending node.

#include <vector>

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/rules/response_controls.hpp"

namespace eventrouter::rules {

// `entries` are the rule's keys; only `dedup` and `max_invocations` are read.
ResponseControls read_response_controls(config::YamlFile& file,
                                        const std::vector<config::MapEntry>& entries);

}  // namespace eventrouter::rules
