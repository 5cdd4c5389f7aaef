#pragma once
// EventBridge's InputTemplate: text with <variable> placeholders, filled from InputPathsMap and
// the predefined variables. Where a placeholder sits decides how a value is written:
//   - a JSON template (starting with '{' or '[') or a JSON string template (starting with '"'):
//       outside quotes, a string value is written as a quoted JSON string and anything else as
//       its JSON text (a missing value as null); inside quotes, the value is written as escaped
//       string contents (a missing value as nothing);
//   - a plain-text template: a string value is written as is, anything else as its JSON text,
//       a missing value as nothing.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/transform/json_path.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::transform {

// The predefined variables eventrouter supports (EventBridge's, minus rule-arn).
enum class Predefined : std::uint8_t {
  kRuleName,       // <aws.events.rule-name>
  kEvent,          // <aws.events.event>: the event without its detail field, as JSON
  kEventJson,      // <aws.events.event.json>: the whole event, as JSON
  kIngestionTime,  // <aws.events.event.ingestion-time>: ISO 8601
};

// The values a template is filled with.
struct TemplateValues {
  std::span<const JsonValue> variables;  // in the order of the names given to compile()
  std::string_view rule_name;
  std::string_view ingestion_time;
  std::string_view event_json;            // minified
  std::string_view event_without_detail;  // minified; only needed when uses(event)
};

class InputTemplate {
 public:
  static constexpr std::size_t max_length = 8192;  // EventBridge's limit

  enum class Kind { kJson, kText };

  // Checks placeholders against `variables` and the predefined names; a JSON template must be
  // valid JSON once filled in, and may not use a placeholder as an object key. With
  // `force_text`, the template is plain text whatever it starts with (for e-mail subjects).
  static Expected<InputTemplate, std::string> compile(std::string_view text,
                                                      std::span<const std::string> variables,
                                                      bool force_text = false);

  // Fills in the placeholders. A JSON template's result is minified.
  Expected<std::string, std::string> render(const TemplateValues& values) const;

  Kind kind() const { return kind_; }
  bool uses(Predefined predefined) const;

 private:
  enum class Context : std::uint8_t { kJsonValue, kJsonString, kText };
  struct Segment {
    std::string literal;      // written before the placeholder
    int variable = -1;        // index into TemplateValues::variables, or -1 for a predefined
    Predefined predefined{};  // when variable == -1
    Context context = Context::kText;
    bool has_placeholder = false;
  };

  Kind kind_ = Kind::kText;
  std::vector<Segment> segments_;
};

}  // namespace eventrouter::transform
