#pragma once
// What a target receives, shaped as EventBridge does it from a target's keys:
//   (none)             the whole event;
//   input              a constant (a YAML mapping/list, or a string holding JSON text);
//   input_path         the part of the event a JSONPath selects;
//   input_transformer  { input_paths_map: {name: JSONPath, ...}, input_template: "..." }.
// Everything is checked when the rule loads; shaping an event afterwards cannot fail except on a
// malformed event or an input_path that selects nothing.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventrouter/yaml/node.hpp"

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/transform/input_template.hpp"
#include "eventrouter/transform/json_path.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::transform {

// InputPathsMap plus a template, evaluated together against one event.
class EventTemplate {
 public:
  static constexpr std::size_t max_variables = 100;  // EventBridge's limit

  static Expected<EventTemplate, std::string> compile(
      std::vector<std::pair<std::string, JsonPath>> variables, std::string_view template_text,
      bool force_text = false);

  // `event_json` is the whole event.
  Expected<std::string, std::string> render(std::string_view event_json, std::string_view rule_name,
                                            std::string_view ingestion_time) const;

  const InputTemplate& input_template() const { return template_; }

 private:
  std::vector<std::pair<std::string, JsonPath>> variables_;
  InputTemplate template_;
};

class PayloadShaper {
 public:
  enum class Mode { kWholeEvent, kConstant, kPath, kTransformer };

  // The keys this class reads from a target's mapping.
  static const std::vector<std::string>& keys();

  // Reads input / input_path / input_transformer from a target's mapping. Problems come back as
  // diagnostics positioned at the offending YAML node (in `file`).
  static Expected<PayloadShaper, std::vector<config::Diagnostic>> from_node(
      const yaml::Node& target, const std::filesystem::path& file);

  // Reads only the target's input_transformer.input_paths_map (if any), for other templated
  // values of a target (an e-mail subject) that may use the same variables.
  static Expected<std::vector<std::pair<std::string, JsonPath>>, std::vector<config::Diagnostic>>
  paths_map_from_node(const yaml::Node& target, const std::filesystem::path& file);

  // `event_json` is the whole normalised event; returns the payload text (JSON, or plain text
  // from a plain-text input_template).
  Expected<std::string, std::string> shape(std::string_view event_json, std::string_view rule_name,
                                           std::string_view ingestion_time) const;

  Mode mode() const { return mode_; }

 private:
  Mode mode_ = Mode::kWholeEvent;
  std::string constant_;
  std::optional<JsonPath> path_;
  std::optional<EventTemplate> transformer_;
};

}  // namespace eventrouter::transform
