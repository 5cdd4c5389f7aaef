#pragma once
// The JSONPath subset EventBridge supports in InputPath and InputPathsMap: `$`, dot notation
// (`$.detail.instance-id`, names with letters, digits, `_`, `-`, `/`, `:`, `@`), bracket notation
// for any other name (`$['aws/securityhub/FindingId']`), array indices (`[0]`) and wildcards
// (`.*`, `[*]`). A path with a wildcard selects every match, as a JSON array.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::transform {

// A value selected from an event.
struct JsonValue {
  enum class Kind { missing, string, json };
  Kind kind = Kind::missing;
  // For `string`: the unescaped contents. For `json`: minified JSON text (object, array, number,
  // true, false, null).
  std::string text;
};

class JsonPath {
 public:
  static constexpr std::size_t max_length = 256;  // EventBridge's limit for a path

  // Parses a path; the error says what is wrong and where.
  static Expected<JsonPath, std::string> parse(std::string_view text);

  // Selects from an already parsed event.
  JsonValue select(simdjson::dom::element root) const;

  const std::string& text() const { return text_; }
  bool has_wildcard() const { return has_wildcard_; }

 private:
  struct Wildcard {};
  using Step = std::variant<std::string, std::size_t, Wildcard>;  // name, index, wildcard

  void collect(simdjson::dom::element at, std::size_t step,
               std::vector<simdjson::dom::element>& out) const;

  std::string text_;
  std::vector<Step> steps_;
  bool has_wildcard_ = false;
};

// The selected element as a JsonValue (strings unescaped, everything else minified JSON).
JsonValue to_json_value(simdjson::dom::element element);

}  // namespace eventrouter::transform
