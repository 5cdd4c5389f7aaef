#include "eventrouter/transform/input_template.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "eventrouter/transform/json_text.hpp"

namespace eventrouter::transform {
namespace {

constexpr std::array<std::pair<std::string_view, Predefined>, 4> kPredefinedNames = {{
    {"aws.events.rule-name", Predefined::kRuleName},
    {"aws.events.event", Predefined::kEvent},
    {"aws.events.event.json", Predefined::kEventJson},
    {"aws.events.event.ingestion-time", Predefined::kIngestionTime},
}};

bool is_placeholder_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

Expected<InputTemplate, std::string> InputTemplate::compile(std::string_view text,
                                                            std::span<const std::string> variables,
                                                            bool force_text) {
  if (text.empty()) return unexpected(std::string("input_template must not be empty"));
  if (text.size() > max_length) {
    return unexpected("input_template must be at most " + std::to_string(max_length) +
                      " characters (this one has " + std::to_string(text.size()) + ")");
  }
  InputTemplate result;
  const auto first = std::find_if_not(text.begin(), text.end(), is_space);
  if (!force_text && first != text.end() && (*first == '{' || *first == '[' || *first == '"')) {
    result.kind_ = Kind::kJson;
  }
  const bool json = result.kind_ == Kind::kJson;

  Segment current;
  bool in_string = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (json && in_string && c == '\\' && i + 1 < text.size()) {
      current.literal += text.substr(i, 2);
      i += 2;
      continue;
    }
    if (json && c == '"') in_string = !in_string;
    if (c == '<') {
      std::size_t end = i + 1;
      while (end < text.size() && is_placeholder_char(text[end])) ++end;
      if (end > i + 1 && end < text.size() && text[end] == '>') {
        const std::string_view name = text.substr(i + 1, end - i - 1);
        Segment segment = std::move(current);
        current = Segment{};
        segment.has_placeholder = true;
        const auto variable = std::find(variables.begin(), variables.end(), name);
        if (variable != variables.end()) {
          segment.variable = static_cast<int>(variable - variables.begin());
        } else {
          const auto known = std::find_if(kPredefinedNames.begin(), kPredefinedNames.end(),
                                          [&](const auto& entry) { return entry.first == name; });
          if (known != kPredefinedNames.end()) {
            segment.predefined = known->second;
          } else if (name == "aws.events.rule-arn") {
            return unexpected(std::string(
                "input_template uses <aws.events.rule-arn>, which eventrouter does not support "
                "(its rules have no ARN; use <aws.events.rule-name>)"));
          } else if (name.starts_with("aws.events.")) {
            return unexpected("input_template uses <" + std::string(name) +
                              ">, which is not a predefined variable (expected "
                              "aws.events.rule-name, aws.events.event, aws.events.event.json or "
                              "aws.events.event.ingestion-time)");
          } else {
            return unexpected("input_template uses <" + std::string(name) +
                              ">, which input_paths_map does not define");
          }
        }
        if (!json) {
          segment.context = Context::kText;
        } else if (in_string) {
          segment.context = Context::kJsonString;
          if (segment.variable < 0 && (segment.predefined == Predefined::kEvent ||
                                       segment.predefined == Predefined::kEventJson)) {
            return unexpected("<" + std::string(name) +
                              "> can only be used as a JSON value, not inside a quoted string");
          }
        } else {
          segment.context = Context::kJsonValue;
          const auto next =
              std::find_if_not(text.begin() + static_cast<long>(end) + 1, text.end(), is_space);
          if (next != text.end() && *next == ':') {
            return unexpected("placeholder <" + std::string(name) +
                              "> cannot be used as an object key in a JSON input_template");
          }
        }
        result.segments_.push_back(std::move(segment));
        i = end + 1;
        continue;
      }
    }
    current.literal += c;
    ++i;
  }
  result.segments_.push_back(std::move(current));

  if (json) {
    // Stand every placeholder in for a value of its position and check the result is JSON,
    // so a broken template is reported when the rule loads, not when an event arrives.
    std::string probe;
    for (const Segment& segment : result.segments_) {
      probe += segment.literal;
      if (segment.has_placeholder && segment.context == Context::kJsonValue) probe += "null";
    }
    if (!is_valid_json(probe)) {
      return unexpected(std::string(
          "input_template starts like JSON but is not valid JSON once its placeholders are "
          "filled in (quote string placeholders inside JSON strings, leave value placeholders "
          "unquoted; or start the template with other text to send plain text)"));
    }
  }
  return result;
}

bool InputTemplate::uses(Predefined predefined) const {
  return std::any_of(segments_.begin(), segments_.end(), [&](const Segment& segment) {
    return segment.has_placeholder && segment.variable < 0 && segment.predefined == predefined;
  });
}

Expected<std::string, std::string> InputTemplate::render(const TemplateValues& values) const {
  std::string out;
  for (const Segment& segment : segments_) {
    out += segment.literal;
    if (!segment.has_placeholder) continue;
    JsonValue predefined_value;
    const JsonValue* value = &predefined_value;
    if (segment.variable >= 0) {
      if (static_cast<std::size_t>(segment.variable) >= values.variables.size()) {
        return unexpected(std::string("input_template is missing a variable's value"));
      }
      value = &values.variables[static_cast<std::size_t>(segment.variable)];
    } else {
      switch (segment.predefined) {
        case Predefined::kRuleName:
          predefined_value = {JsonValue::Kind::kString, std::string(values.rule_name)};
          break;
        case Predefined::kIngestionTime:
          predefined_value = {JsonValue::Kind::kString, std::string(values.ingestion_time)};
          break;
        case Predefined::kEvent:
          predefined_value = {JsonValue::Kind::kJson, std::string(values.event_without_detail)};
          break;
        case Predefined::kEventJson:
          predefined_value = {JsonValue::Kind::kJson, std::string(values.event_json)};
          break;
      }
    }
    switch (segment.context) {
      case Context::kJsonValue:
        if (value->kind == JsonValue::Kind::kMissing) {
          out += "null";
        } else if (value->kind == JsonValue::Kind::kString) {
          append_json_string(out, value->text);
        } else {
          out += value->text;
        }
        break;
      case Context::kJsonString:
        if (value->kind != JsonValue::Kind::kMissing) append_json_escaped(out, value->text);
        break;
      case Context::kText:
        out += value->text;
        break;
    }
  }
  if (kind_ == Kind::kJson) {
    bool valid = false;
    std::string minified = minify_json(out, valid);
    if (!valid) return unexpected(std::string("the filled-in input_template is not valid JSON"));
    return minified;
  }
  return out;
}

}  // namespace eventrouter::transform
