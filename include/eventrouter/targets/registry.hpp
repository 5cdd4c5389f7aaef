#pragma once
// The target registry: every target type eventrouter knows, each registered by one line in
// registry.cpp. Everything that depends on the list of types (checking, building, the rules
// loader's catalog, messages naming the types) is derived from it.

#include <memory>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "eventrouter/targets/target_type.hpp"

namespace eventrouter::targets {

// The registered types, in documentation order: webhook, runbook, queue_file, email, nats.
const std::vector<const TargetType*>& registered_types();

// Their names, in the same order.
const std::vector<std::string>& target_types();

// A TargetChecker: checks the type, its keys (unknown keys are reported with a suggestion), the
// limit keys and the payload shaping keys (input, input_path, input_transformer). Appends one
// diagnostic per problem; values of secret keys are never quoted.
void check_target(const TargetSpec& spec, std::vector<config::Diagnostic>& problems);

// What the rules loader needs of the registry: the types' names and path keys, and
// check_target.
const TargetCatalog& catalog();

// Builds the adapter for a checked spec, behind its limits. Throws std::invalid_argument
// (start-up only) when the spec has problems, with the first problem's message.
std::unique_ptr<Target> make_target(const TargetSpec& spec, TargetContext& context);

}  // namespace eventrouter::targets
