#include "eventrouter/targets/registry.hpp"

#include <stdexcept>

#include "eventrouter/targets/email.hpp"
#include "eventrouter/targets/nats.hpp"
#include "eventrouter/targets/queue_file.hpp"
#include "eventrouter/targets/runbook.hpp"
#include "eventrouter/targets/webhook.hpp"
#include "eventrouter/transform/payload_shaper.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

const TargetType* find(const std::string& name) {
  for (const TargetType* type : registered_types()) {
    if (type->name == name) return type;
  }
  return nullptr;
}

void report_unknown_type(const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, "");
  std::string message =
      "unknown target type '" + spec.type + "' (expected " + catalog().type_names() + ")";
  if (auto suggestion = config::did_you_mean(spec.type, target_types())) {
    message += "; " + *suggestion;
  }
  reader.problem(spec.node.is_map() ? spec.node["type"] : yaml::Node(), message);
}

void check_shaping(const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
  auto shaper = transform::PayloadShaper::from_node(spec.node, spec.position.file);
  if (shaper) return;
  for (auto diagnostic : shaper.error()) {
    diagnostic.message = spec.type + " target '" + spec.id + "': " + diagnostic.message;
    if (diagnostic.line == 0) {
      diagnostic.line = spec.position.line;
      diagnostic.column = spec.position.column;
    }
    problems.push_back(std::move(diagnostic));
  }
}

}  // namespace

const std::vector<const TargetType*>& registered_types() {
  // One line a type, in documentation order.
  static const std::vector<const TargetType*> types = {
      &webhook_target_type(), &runbook_target_type(), &queue_file_target_type(),
      &email_target_type(),   &nats_target_type(),
  };
  return types;
}

const std::vector<std::string>& target_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const TargetType* type : registered_types()) out.push_back(type->name);
    return out;
  }();
  return names;
}

const TargetCatalog& catalog() {
  static const TargetCatalog built = [] {
    TargetCatalog out;
    for (const TargetType* type : registered_types()) {
      out.types.push_back({type->name, type->path_keys});
    }
    out.check = check_target;
    return out;
  }();
  return built;
}

void check_target(const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
  const TargetType* type = find(spec.type);
  if (type == nullptr) return report_unknown_type(spec, problems);
  std::vector<std::string> keys = type->keys;
  keys.insert(keys.end(), limit_keys().begin(), limit_keys().end());
  SpecReader(spec.node, spec, problems, target_name(spec)).check_keys(keys, keys_of_every_target());
  type->check(spec, problems);
  read_target_limits(spec, type->limits, problems);
  check_shaping(spec, problems);
}

std::unique_ptr<Target> make_target(const TargetSpec& spec, TargetContext& context) {
  std::vector<config::Diagnostic> problems;
  const TargetType* type = find(spec.type);
  std::unique_ptr<Target> target;
  if (type == nullptr) {
    report_unknown_type(spec, problems);
  } else if (auto limits = read_target_limits(spec, type->limits, problems)) {
    target = type->make(spec, context, *limits, problems);
    if (target) target = with_limits(std::move(target), *limits, spec, context);
  }
  if (!target) {
    throw std::invalid_argument(problems.empty() ? "target '" + spec.id + "' cannot be built"
                                                 : problems.front().message);
  }
  return target;
}

}  // namespace eventrouter::targets
