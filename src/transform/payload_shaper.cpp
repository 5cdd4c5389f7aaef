#include "eventrouter/transform/payload_shaper.hpp"

#include <algorithm>
#include <cctype>

#include <simdjson.h>

#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/config/yaml_json.hpp"
#include "eventrouter/transform/event_document.hpp"
#include "eventrouter/transform/json_text.hpp"

namespace eventrouter::transform {
namespace {

config::Diagnostic at(const yaml::Node& node, const std::filesystem::path& file,
                      std::string message) {
  config::Diagnostic diagnostic;
  diagnostic.file = file;
  const yaml::Mark mark = node.mark();
  if (!mark.is_null()) {
    diagnostic.line = mark.line + 1;
    diagnostic.column = mark.column + 1;
  }
  diagnostic.message = std::move(message);
  return diagnostic;
}

bool is_variable_name(std::string_view name) {
  return !name.empty() && name.size() <= 256 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// <aws.events.event>: the event's members but `detail`, each value as the event spells it.
simdjson::error_code append_without_detail(simdjson::ondemand::document& event, std::string& out) {
  event.rewind();
  simdjson::ondemand::json_type type{};
  if (auto error = event.type().get(type)) return error;
  if (type != simdjson::ondemand::json_type::object) return append_as_written(event, out);
  simdjson::ondemand::object object;
  if (auto error = event.get_object().get(object)) return error;
  out += '{';
  bool first = true;
  for (auto member : object) {
    simdjson::ondemand::field field;
    if (auto error = std::move(member).get(field)) return error;
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    if (key == "detail") continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    if (auto error = append_as_written(field.value(), out)) return error;
  }
  out += '}';
  return simdjson::SUCCESS;
}

}  // namespace

Expected<EventTemplate, std::string> EventTemplate::compile(
    std::vector<std::pair<std::string, JsonPath>> variables, std::string_view template_text,
    bool force_text) {
  if (variables.size() > max_variables) {
    return unexpected("input_paths_map may have at most " + std::to_string(max_variables) +
                      " entries (this one has " + std::to_string(variables.size()) + ")");
  }
  std::vector<std::string> names;
  names.reserve(variables.size());
  for (const auto& [name, path] : variables) names.push_back(name);
  auto compiled = InputTemplate::compile(template_text, names, force_text);
  if (!compiled) return unexpected(compiled.error());
  EventTemplate result;
  result.variables_ = std::move(variables);
  result.template_ = std::move(*compiled);
  return result;
}

Expected<std::string, std::string> EventTemplate::render(std::string_view event_json,
                                                         std::string_view rule_name,
                                                         std::string_view ingestion_time) const {
  std::vector<JsonValue> values;
  std::string event_without_detail;
  // A template of text, the rule's name and the ingestion time (an e-mail subject, often) has
  // nothing to take out of the event, so the event is not read at all.
  if (!variables_.empty() || template_.uses(Predefined::kEvent)) {
    auto event = read_event(event_json);
    if (!event) return unexpected(event.error());
    values.reserve(variables_.size());
    for (const auto& [name, path] : variables_) {
      auto value = path.select(*event);
      if (!value) return unexpected(event_not_valid(value.error()));
      values.push_back(std::move(*value));
    }
    if (template_.uses(Predefined::kEvent)) {
      if (auto error = append_without_detail(*event, event_without_detail)) {
        return unexpected(event_not_valid(error));
      }
    }
  }

  std::string minified_event;
  if (template_.uses(Predefined::kEventJson)) {
    bool valid = false;
    minified_event = minify_json(event_json, valid);
  }

  TemplateValues inputs;
  inputs.variables = values;
  inputs.rule_name = rule_name;
  inputs.ingestion_time = ingestion_time;
  inputs.event_json = minified_event;
  inputs.event_without_detail = event_without_detail;
  return template_.render(inputs);
}

const std::vector<std::string>& PayloadShaper::keys() {
  static const std::vector<std::string> keys = {"input", "input_path", "input_transformer"};
  return keys;
}

Expected<std::vector<std::pair<std::string, JsonPath>>, std::vector<config::Diagnostic>>
PayloadShaper::paths_map_from_node(const yaml::Node& target, const std::filesystem::path& file) {
  std::vector<config::Diagnostic> problems;
  std::vector<std::pair<std::string, JsonPath>> variables;
  const yaml::Node transformer = target["input_transformer"];
  if (!transformer || !transformer.is_map()) return variables;
  const yaml::Node map = transformer["input_paths_map"];
  if (!map || map.is_null()) return variables;
  if (!map.is_map()) {
    problems.push_back(at(map, file, "input_paths_map must be a mapping of name: JSONPath"));
    return unexpected(std::move(problems));
  }
  if (map.size() > EventTemplate::max_variables) {
    problems.push_back(at(map, file,
                          "input_paths_map may have at most " +
                              std::to_string(EventTemplate::max_variables) +
                              " entries (this one has " + std::to_string(map.size()) + ")"));
    return unexpected(std::move(problems));
  }
  for (const auto& entry : map) {
    const std::string name = entry.first.is_scalar() ? entry.first.scalar() : std::string();
    if (name.starts_with("aws.events.")) {
      problems.push_back(at(entry.first, file,
                            "input_paths_map name '" + name +
                                "' is reserved for EventBridge's predefined variables"));
      continue;
    }
    if (!is_variable_name(name)) {
      problems.push_back(at(entry.first, file,
                            "input_paths_map names use only letters, digits, '_' and '-' "
                            "(got '" +
                                name + "')"));
      continue;
    }
    if (!entry.second.is_scalar()) {
      problems.push_back(at(entry.second, file,
                            "input_paths_map value for '" + name + "' must be a JSONPath string"));
      continue;
    }
    auto path = JsonPath::parse(entry.second.scalar());
    if (!path) {
      problems.push_back(at(entry.second, file, "input_paths_map '" + name + "': " + path.error()));
      continue;
    }
    variables.emplace_back(name, std::move(*path));
  }
  if (!problems.empty()) return unexpected(std::move(problems));
  return variables;
}

Expected<PayloadShaper, std::vector<config::Diagnostic>> PayloadShaper::from_node(
    const yaml::Node& target, const std::filesystem::path& file) {
  std::vector<config::Diagnostic> problems;
  PayloadShaper shaper;
  if (!target || !target.is_map()) return shaper;

  const yaml::Node input = target["input"];
  const yaml::Node input_path = target["input_path"];
  const yaml::Node transformer = target["input_transformer"];
  const int present = (input ? 1 : 0) + (input_path ? 1 : 0) + (transformer ? 1 : 0);
  if (present > 1) {
    const yaml::Node& second = transformer ? transformer : input_path;
    problems.push_back(at(second, file,
                          "use only one of input, input_path and input_transformer (as in "
                          "EventBridge, they are mutually exclusive)"));
    return unexpected(std::move(problems));
  }

  if (input) {
    shaper.mode_ = Mode::kConstant;
    if (input.is_map() || input.is_sequence()) {
      // The same YAML 1.2 conversion as event patterns, so a value means the same in both.
      std::vector<config::Diagnostic> input_problems;
      config::YamlFile yaml_file(file, input_problems);
      if (auto json = config::yaml_to_json(yaml_file, input)) {
        shaper.constant_ = std::move(*json);
      }
      for (auto& problem : input_problems) {
        problem.message = "input: " + problem.message;
        problems.push_back(std::move(problem));
      }
    } else if (input.is_scalar()) {
      bool valid = false;
      shaper.constant_ = minify_json(input.scalar(), valid);
      if (!valid) {
        problems.push_back(at(input, file,
                              "input must be JSON text (as EventBridge's Input): write a YAML "
                              "mapping or list, or a string such as '\"text\"' or '{\"a\": 1}'; "
                              "for plain text use input_transformer"));
      }
    } else {
      problems.push_back(at(input, file, "input must be a mapping, a list or JSON text"));
    }
  } else if (input_path) {
    shaper.mode_ = Mode::kPath;
    if (!input_path.is_scalar()) {
      problems.push_back(at(input_path, file, "input_path must be a JSONPath string"));
    } else if (auto path = JsonPath::parse(input_path.scalar()); !path) {
      problems.push_back(at(input_path, file, "input_path: " + path.error()));
    } else {
      shaper.path_ = std::move(*path);
    }
  } else if (transformer) {
    shaper.mode_ = Mode::kTransformer;
    if (!transformer.is_map()) {
      problems.push_back(at(transformer, file,
                            "input_transformer must be a mapping with input_paths_map and "
                            "input_template"));
      return unexpected(std::move(problems));
    }
    for (const auto& entry : transformer) {
      const std::string key = entry.first.is_scalar() ? entry.first.scalar() : std::string();
      if (key != "input_paths_map" && key != "input_template") {
        problems.push_back(at(entry.first, file,
                              "unknown key '" + key +
                                  "' in input_transformer (expected input_paths_map or "
                                  "input_template)"));
      }
    }
    auto variables = paths_map_from_node(target, file);
    if (!variables) {
      problems.insert(problems.end(), variables.error().begin(), variables.error().end());
    }
    const yaml::Node text = transformer["input_template"];
    if (!text) {
      problems.push_back(at(transformer, file, "input_transformer needs an input_template"));
    } else if (!text.is_scalar()) {
      problems.push_back(at(text, file, "input_template must be a string"));
    } else if (variables) {
      auto compiled = EventTemplate::compile(std::move(*variables), text.scalar());
      if (!compiled) {
        problems.push_back(at(text, file, compiled.error()));
      } else {
        shaper.transformer_ = std::move(*compiled);
      }
    }
  }
  if (!problems.empty()) return unexpected(std::move(problems));
  return shaper;
}

Expected<std::string, std::string> PayloadShaper::shape(std::string_view event_json,
                                                        std::string_view rule_name,
                                                        std::string_view ingestion_time) const {
  switch (mode_) {
    case Mode::kWholeEvent:
      return std::string(event_json);
    case Mode::kConstant:
      return constant_;
    case Mode::kPath: {
      auto event = read_event(event_json);
      if (!event) return unexpected(event.error());
      auto selected = path_->select(*event);
      if (!selected) return unexpected(event_not_valid(selected.error()));
      JsonValue& value = *selected;
      if (value.kind == JsonValue::Kind::kMissing) {
        return unexpected("input_path " + path_->text() + " selects nothing in this event");
      }
      if (value.kind == JsonValue::Kind::kString) return json_string(value.text);
      return std::move(value.text);
    }
    case Mode::kTransformer:
      return transformer_->render(event_json, rule_name, ingestion_time);
  }
  return std::string(event_json);
}

}  // namespace eventrouter::transform
