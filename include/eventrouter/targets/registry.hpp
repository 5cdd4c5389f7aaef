#pragma once
// The target registry: each YAML `type` maps to a checker and a factory.

#include <memory>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::targets {

// The types the registry knows, in documentation order: webhook, runbook, queue_file, email.
const std::vector<std::string>& target_types();

// A TargetChecker: checks the type, its keys (unknown keys are reported with a suggestion) and
// the payload shaping keys (input, input_path, input_transformer). Appends one diagnostic per
// problem; values of secret keys are never quoted.
void check_target(const TargetSpec& spec, std::vector<config::Diagnostic>& problems);

// Builds the adapter for a checked spec. Throws std::invalid_argument (start-up only) when the
// spec has problems, with the first problem's message.
std::unique_ptr<Target> make_target(const TargetSpec& spec, TargetContext& context);

}  // namespace eventrouter::targets
