#include "eventrouter/targets/registry.hpp"

#include <functional>
#include <stdexcept>

#include "eventrouter/targets/email.hpp"
#include "eventrouter/targets/queue_file.hpp"
#include "eventrouter/targets/runbook.hpp"
#include "eventrouter/targets/webhook.hpp"
#include "eventrouter/transform/payload_shaper.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {
namespace {

struct Entry {
  std::string type;
  std::function<void(const TargetSpec&, std::vector<config::Diagnostic>&)> check;
  std::function<std::unique_ptr<Target>(const TargetSpec&, TargetContext&,
                                        std::vector<config::Diagnostic>&)>
      make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> registry = {
      {"webhook",
       [](const TargetSpec& spec, auto& problems) { read_webhook_config(spec, problems); },
       [](const TargetSpec& spec, TargetContext& context,
          auto& problems) -> std::unique_ptr<Target> {
         auto config = read_webhook_config(spec, problems);
         if (!config) return nullptr;
         return std::make_unique<WebhookTarget>(std::move(*config), context);
       }},
      {"runbook",
       [](const TargetSpec& spec, auto& problems) { read_runbook_config(spec, problems); },
       [](const TargetSpec& spec, TargetContext&, auto& problems) -> std::unique_ptr<Target> {
         auto config = read_runbook_config(spec, problems);
         if (!config) return nullptr;
         return std::make_unique<RunbookTarget>(std::move(*config));
       }},
      {"queue_file",
       [](const TargetSpec& spec, auto& problems) { read_queue_file_config(spec, problems); },
       [](const TargetSpec& spec, TargetContext&, auto& problems) -> std::unique_ptr<Target> {
         auto config = read_queue_file_config(spec, problems);
         if (!config) return nullptr;
         return std::make_unique<QueueFileTarget>(std::move(*config));
       }},
      {"email", [](const TargetSpec& spec, auto& problems) { read_email_config(spec, problems); },
       [](const TargetSpec& spec, TargetContext&, auto& problems) -> std::unique_ptr<Target> {
         auto config = read_email_config(spec, problems);
         if (!config) return nullptr;
         auto subject = email_subject_template(spec, config->subject);
         if (!subject) throw std::invalid_argument(subject.error());
         return std::make_unique<EmailTarget>(std::move(*config), std::move(*subject));
       }},
  };
  return registry;
}

const Entry* find(const std::string& type) {
  for (const auto& entry : entries()) {
    if (entry.type == type) return &entry;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& target_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> out;
    for (const auto& entry : entries()) out.push_back(entry.type);
    return out;
  }();
  return types;
}

void check_target(const TargetSpec& spec, std::vector<config::Diagnostic>& problems) {
  const Entry* entry = find(spec.type);
  if (entry == nullptr) {
    SpecReader reader(spec.node, spec, problems, "");
    std::string message =
        "unknown target type '" + spec.type + "' (expected webhook, runbook, queue_file or email)";
    if (auto suggestion = did_you_mean(spec.type, target_types())) {
      message += "; did you mean '" + *suggestion + "'?";
    }
    reader.problem(spec.node.IsMap() ? spec.node["type"] : YAML::Node(), message);
    return;
  }
  entry->check(spec, problems);
  auto shaper = transform::PayloadShaper::from_node(spec.node, spec.position.file);
  if (!shaper) {
    for (auto diagnostic : shaper.error()) {
      diagnostic.message = spec.type + " target '" + spec.id + "': " + diagnostic.message;
      if (diagnostic.line == 0) {
        diagnostic.line = spec.position.line;
        diagnostic.column = spec.position.column;
      }
      problems.push_back(std::move(diagnostic));
    }
  }
}

std::unique_ptr<Target> make_target(const TargetSpec& spec, TargetContext& context) {
  std::vector<config::Diagnostic> problems;
  const Entry* entry = find(spec.type);
  std::unique_ptr<Target> target;
  if (entry == nullptr) {
    check_target(spec, problems);
  } else {
    target = entry->make(spec, context, problems);
  }
  if (!target) {
    throw std::invalid_argument(problems.empty() ? "target '" + spec.id + "' cannot be built"
                                                 : problems.front().message);
  }
  return target;
}

}  // namespace eventrouter::targets
