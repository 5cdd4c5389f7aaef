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
  enum class Kind { kMissing, kString, kJson };
  Kind kind = Kind::kMissing;
  // For `string`: the unescaped contents. For `json`: the JSON text (object, array, number,
  // true, false, null) as the event spells it, minified.
  std::string text;
};

class JsonPath {
 public:
  static constexpr std::size_t max_length = 256;  // EventBridge's limit for a path

  // Parses a path; the error says what is wrong and where.
  static Expected<JsonPath, std::string> parse(std::string_view text);

  // Selects from an event being read (rewound first, so paths may select one after another).
  // Fails only where the event is not valid JSON.
  Expected<JsonValue, simdjson::error_code> select(simdjson::ondemand::document& event) const;

  const std::string& text() const { return text_; }
  bool has_wildcard() const { return has_wildcard_; }

 private:
  struct Wildcard {};
  using Step = std::variant<std::string, std::size_t, Wildcard>;  // name, index, wildcard

  class Selection;
  simdjson::error_code collect(simdjson::ondemand::value value, std::size_t step,
                               Selection& selection) const;

  std::string text_;
  std::vector<Step> steps_;
  bool has_wildcard_ = false;
};

}  // namespace eventrouter::transform
