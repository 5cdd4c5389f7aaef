#pragma once
// Leaf-level building blocks: event values, IP parsing, case-insensitive comparison,
// wildcard globs, and the test of one predicate against one value.

#include <optional>
#include <string>
#include <string_view>

#include "ast.hpp"

namespace eventrouter::pattern::detail {

// kNumber: a number that compares numerically (comparable_number.hpp), in `num`; kNumberText:
// any other number, its text in `str`.
enum class ValueKind : std::uint8_t { kString, kNumber, kTrue, kFalse, kNull, kNumberText };

// One leaf value of an event. Strings are unescaped UTF-8 (views into the parser's buffer).
struct Value {
  ValueKind kind = ValueKind::kNull;
  std::string_view str;
  double num = 0;
};

// Parses an IPv4 or IPv6 literal the way event-ruler recognises one (dotted quad, or hex
// groups with "::"); IPv4-mapped IPv6 addresses become IPv4. Octets of a dotted quad are
// decimal, leading zeros included ("010.0.0.1" is 10.0.0.1).
std::optional<IpAddress> parse_ip(std::string_view text);
// True when the text has the shape of an IP literal (event-ruler's test before parsing).
bool looks_like_ip(std::string_view text);
bool ip_in_range(const IpAddress& ip, const IpRange& range);

// Case-insensitive comparisons with EventBridge's rule: the event value holds, for each pattern
// character, that character's lower- or upper-case form as Java gives it (full case mapping for
// the Basic Multilingual Plane: "ß" is "ß" or "SS"; other characters as they are).
bool equals_ci(std::string_view value, std::string_view pattern);
bool starts_with_ci(std::string_view value, std::string_view prefix);
bool ends_with_ci(std::string_view value, std::string_view suffix);
bool is_ascii(std::string_view text);
// ASCII lower-casing into `out` (other bytes unchanged): the index key for ASCII patterns.
void ascii_lower(std::string_view text, std::string& out);

// Parses a wildcard value ('*' any run, '\*' a star, '\\' a backslash). On error returns the
// reason (event-ruler wording).
std::optional<std::string> parse_wildcard(std::string_view text, WildcardGlob& out);
bool glob_matches(const WildcardGlob& glob, std::string_view value);

// Does this value satisfy this predicate? kAbsent never matches a value.
bool predicate_matches(const Predicate& predicate, const Value& value);

}  // namespace eventrouter::pattern::detail
