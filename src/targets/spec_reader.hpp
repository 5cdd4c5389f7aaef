#pragma once
// Reads a target's type-specific keys from its YAML mapping with the one typed reader
// (config::MappingReader): one diagnostic per problem at the offending node, at the target's
// position when the node has none, naming the target ("TYPE target 'ID': ...", "unknown key
// 'k' in TYPE target 'ID'; ..."). Values of secret keys are never quoted in messages.

#include <string>
#include <vector>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::targets {

class SpecReader : public config::MappingReader {
 public:
  // A reader over `node` (the target's mapping, or part of it) whose messages name `what`
  // ("webhook target 'notify'"; empty: no prefix).
  SpecReader(yaml::Node node, const TargetSpec& spec, std::vector<config::Diagnostic>& problems,
             std::string what)
      : MappingReader(std::move(node),
                      {spec.position.file, spec.position.line, spec.position.column}, problems,
                      std::move(what)) {}
};

// "TYPE target 'ID'", how messages about a target name it.
inline std::string target_name(const TargetSpec& spec) {
  return spec.type + " target '" + spec.id + "'";
}

// The keys every target's mapping takes besides its type's own: the common keys the rules
// loader reads and the payload shaping keys.
std::vector<std::string> keys_of_every_target();

}  // namespace eventrouter::targets
